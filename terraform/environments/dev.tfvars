# Cheap development stack: one small search node, a development API key, no WAF, short log retention.
name        = "cqrs-dev"
environment = "dev"
region      = "eu-west-1"

search = {
  profile         = "dev"
  master_user_arn = "arn:aws:iam::111122223333:role/search-admin"
}

api = {
  api_key_enabled       = true
  introspection_enabled = true
  waf_enabled           = false
}

projector = {
  memory_size = 256
  log_level   = "DEBUG"
}

log_retention_days = 14
tags               = { cost-center = "dev" }
