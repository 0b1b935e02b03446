# Highly available production stack: 3 AZs with dedicated masters, WAF, no API key, a year of logs.
name        = "cqrs-prod"
environment = "prod"
region      = "eu-west-1"

search = {
  profile         = "prod"
  master_user_arn = "arn:aws:iam::111122223333:role/search-admin"
}

api = {
  api_key_enabled = false
  waf_enabled     = true
  waf_rate_limit  = 2000
  # The backends that call the API over IAM; any other IAM caller is refused by the resolvers. Threat
  # protection (user_pool_tier PLUS, advanced_security_mode ENFORCED) is prod's default.
  iam_caller_role_arns = [
    "arn:aws:iam::111122223333:role/cqrs-prod-seed",
    "arn:aws:iam::111122223333:role/cqrs-prod-smoke",
    "arn:aws:iam::111122223333:role/cqrs-prod-ops",
  ]
}

projector = {
  memory_size          = 1024
  reserved_concurrency = 20
  stream_mapping = {
    parallelization_factor = 2
  }
}

alarm_actions      = ["arn:aws:sns:eu-west-1:111122223333:cqrs-prod-alarms"]
log_retention_days = 365
tags               = { cost-center = "search-platform" }
