# What only the prod profile has (tests/stack.tftest.hcl checks what both share). Planned with
# environments/prod.tfvars: terraform test -filter=tests/prod.tftest.hcl -var-file=environments/prod.tfvars ...
mock_provider "aws" {
  source = "./tests/mocks"
}

# The mocked table's ARN names this stack (see tests/mocks): the only variable not from the environment.
variables {
  name = "cqrs-stack"
}

run "prod_is_highly_available" {
  command = apply

  assert {
    condition = (
      module.search.cluster.instance_count == 3 && module.search.cluster.availability_zones == 3 &&
      module.search.security.zone_awareness_enabled && module.search.security.dedicated_master_enabled &&
      module.search.cluster.dedicated_master_count == 3
    )
    error_message = "prod spreads data nodes over three AZs with a dedicated master quorum"
  }

  assert {
    condition     = module.api.authentication_types == ["AMAZON_COGNITO_USER_POOLS", "AWS_IAM"] && output.auth.api_key == null
    error_message = "prod has no API key"
  }

  assert {
    condition     = module.api.user_pool_settings == { tier = "PLUS", advanced_security_mode = "ENFORCED", self_sign_up_enabled = false }
    error_message = "prod's user pool has threat protection enforced (Plus plan) and admin-only sign-up"
  }

  assert {
    condition     = module.api.environment_variables.IAM_CALLER_ROLES == "111122223333:cqrs-prod-seed 111122223333:cqrs-prod-smoke 111122223333:cqrs-prod-ops 111122223333:cqrs-mock-role"
    error_message = "prod admits exactly its seed, smoke and ops roles and the projector (mocked role, the signal's publisher) as IAM callers"
  }

  assert {
    condition     = module.api.web_acl_arn == "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/cqrs-mock-api/0b1c2d3e"
    error_message = "prod puts a WAF in front of the API"
  }

  assert {
    condition     = module.projector.event_source_mapping.parallelization_factor == 2 && module.projector.event_source_mapping.batch_size == 500
    error_message = "prod doubles the per-shard concurrency and keeps the shared batch size"
  }
}
