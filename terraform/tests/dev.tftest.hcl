# What only the dev profile has (tests/stack.tftest.hcl checks what both share). Planned with
# environments/dev.tfvars: terraform test -filter=tests/dev.tftest.hcl -var-file=environments/dev.tfvars ...
mock_provider "aws" {
  source = "./tests/mocks"
}

# The mocked table's ARN names this stack (see tests/mocks): the only variable not from the environment.
variables {
  name = "cqrs-stack"
}

run "dev_is_cheap" {
  command = apply

  assert {
    condition     = module.search.cluster.instance_count == 1 && !module.search.security.zone_awareness_enabled && !module.search.security.dedicated_master_enabled
    error_message = "dev runs one search node"
  }

  assert {
    condition     = module.api.authentication_types == ["AMAZON_COGNITO_USER_POOLS", "AWS_IAM", "API_KEY"] && output.auth.api_key == "da2-mockmockmockmockmockmock"
    error_message = "dev adds a development API key after user pools and IAM"
  }

  assert {
    condition     = module.api.user_pool_settings == { tier = "ESSENTIALS", advanced_security_mode = "OFF", self_sign_up_enabled = false } && module.api.environment_variables.IAM_CALLER_ROLES == "111122223333:cqrs-mock-role"
    error_message = "dev's user pool goes without threat protection (Essentials plan), sign-up stays admin-only, and the only IAM caller admitted is the projector (mocked role), which publishes the projection signal"
  }

  assert {
    condition     = module.api.web_acl_arn == null
    error_message = "dev runs without a WAF"
  }
}
