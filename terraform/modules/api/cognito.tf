# The frontend's users. Skipped when var.user_pool_id names an existing pool.
resource "aws_cognito_user_pool" "this" {
  count                    = local.create_pool ? 1 : 0
  name                     = "${var.name}-users"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"
  deletion_protection      = "ACTIVE"
  user_pool_tier           = var.user_pool.tier

  # Administrators create users unless the stack opts in to self sign-up: an open sign-up lets anyone
  # mint user-pool tokens, and each one is a monthly active user on the bill.
  admin_create_user_config {
    allow_admin_create_user_only = !var.user_pool.self_sign_up_enabled
  }

  # Threat protection (compromised credentials, adaptive authentication): the Plus plan only (variables.tf).
  # Always set, so that going back to OFF turns it off rather than leaving the last mode in place.
  user_pool_add_ons {
    advanced_security_mode = var.user_pool.advanced_security_mode
  }

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = local.tags
}

# A public (browser) client: no secret, SRP sign-in, no hints about which users exist.
resource "aws_cognito_user_pool_client" "this" {
  count                         = local.create_pool ? 1 : 0
  name                          = "${var.name}-web"
  user_pool_id                  = aws_cognito_user_pool.this[0].id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  access_token_validity         = 60
  id_token_validity             = 60
  refresh_token_validity        = 30

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}
