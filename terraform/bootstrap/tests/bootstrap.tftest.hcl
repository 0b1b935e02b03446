# Mocked tests of the bootstrap: who may assume which role, that the plan role cannot write, that each
# apply role stays inside its own stack and state, and the state bucket's protections.
#   terraform -chdir=terraform/bootstrap test
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }

  mock_data "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" }
  }

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = { arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" }
  }

  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::cqrs-terraform-state", id = "cqrs-terraform-state" }
  }

  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/appsync-cqrs-ci-mock", id = "appsync-cqrs-ci-mock" }
  }
}

variables {
  region            = "eu-west-1"
  github_repository = "my-org/appsync-cqrs"
  state_bucket_name = "cqrs-terraform-state"
}

run "plan_role_trusts_pull_requests_and_main_only_and_cannot_write" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == [
      "repo:my-org/appsync-cqrs:pull_request", "repo:my-org/appsync-cqrs:ref:refs/heads/main",
    ]
    error_message = "the plan role must trust exactly pull requests and pushes to main of this repository"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com" &&
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" &&
      jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" &&
      keys(jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition) == ["StringEquals"]
    )
    error_message = "trust: the GitHub OIDC provider, audience sts.amazonaws.com, exact (StringEquals) subjects only"
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.plan.policy).Statement : [
        for action in statement.Action : can(regex("^[a-z0-9-]+:(Describe|Get|List)[A-Za-z]*$", action))
      ]
    ]))
    error_message = "the plan role may only Describe, Get or List: a pull request can change the workflow that assumes it"
  }

  assert {
    condition = length(flatten([
      for statement in jsondecode(aws_iam_role_policy.plan.policy).Statement : [
        for action in statement.Action : action if contains(["s3:PutObject", "s3:DeleteObject", "iam:PassRole"], action)
      ]
    ])) == 0
    error_message = "the plan role must not write state, lock files or pass roles"
  }

  assert {
    condition     = output.plan_role_subjects == ["repo:my-org/appsync-cqrs:pull_request", "repo:my-org/appsync-cqrs:ref:refs/heads/main"]
    error_message = "the plan_role_subjects output must list what the trust accepts"
  }
}

run "apply_roles_trust_only_their_environment_and_stay_in_their_stack" {
  command = apply

  assert {
    condition = alltrue([
      for environment in ["dev", "prod"] : (
        jsondecode(aws_iam_role.apply[environment].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:my-org/appsync-cqrs:environment:${environment}" &&
        jsondecode(aws_iam_role.apply[environment].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com" &&
        keys(jsondecode(aws_iam_role.apply[environment].assume_role_policy).Statement[0].Condition) == ["StringEquals"] &&
        length(jsondecode(aws_iam_role.apply[environment].assume_role_policy).Statement) == 1
      )
    ])
    error_message = "an apply role must trust exactly repo:<owner>/<repo>:environment:<its environment>"
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.apply["dev"].policy, "cqrs-prod") && !strcontains(aws_iam_role_policy.apply["prod"].policy, "cqrs-dev")
    error_message = "an apply role must not reach the other environment's stack"
  }

  assert {
    condition = toset(flatten([for statement in jsondecode(aws_iam_role_policy.apply["prod"].policy).Statement : statement.Resource if contains(statement.Action, "s3:PutObject")])) == toset([
      "arn:aws:s3:::cqrs-terraform-state/appsync-cqrs/prod.tfstate", "arn:aws:s3:::cqrs-terraform-state/appsync-cqrs/prod.tfstate.tflock",
    ])
    error_message = "the prod apply role writes its own state object and lock file, nothing else in the bucket"
  }

  # "*" only where AWS has no resource type; each such creation is tied to the stack by a condition.
  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.apply["dev"].policy).Statement : (
        !contains(statement.Resource, "*") ||
        (contains(["CreateStreamMappingForStackFunctions", "CreateTaggedApiAndUserPool"], statement.Sid) && can(statement.Condition)) ||
        (statement.Sid == "AccountLevelLogCalls" && alltrue([for action in statement.Action : startswith(action, "logs:") || action == "lambda:ListEventSourceMappings"]))
      )
    ])
    error_message = "an apply statement uses Resource \"*\" for actions that can be scoped"
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.apply["dev"].policy).Statement : statement.Condition["StringEquals"]["iam:PassedToService"] == ["lambda.amazonaws.com", "appsync.amazonaws.com"]
      if contains(statement.Action, "iam:PassRole")
    ])
    error_message = "iam:PassRole only to Lambda and AppSync"
  }

  # IAM caps a role's inline policies at 10,240 characters (whitespace excluded); jsonencode writes none.
  assert {
    condition     = length(aws_iam_role_policy.apply["prod"].policy) <= 10240 && length(aws_iam_role_policy.plan.policy) <= 10240
    error_message = "a role's inline policy exceeds IAM's 10,240-character limit"
  }

  assert {
    condition     = aws_iam_role.apply["prod"].max_session_duration == 7200 && aws_iam_role.plan.max_session_duration == 3600
    error_message = "apply sessions outlast a domain update; plan sessions stay at an hour"
  }
}

run "state_bucket_is_versioned_encrypted_private_and_tls_only" {
  command = apply

  assert {
    condition = (
      aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled" &&
      one(one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
      aws_s3_bucket.state.force_destroy == false
    )
    error_message = "state must be versioned, KMS-encrypted and never force-destroyed"
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.state.block_public_acls && aws_s3_bucket_public_access_block.state.block_public_policy &&
      aws_s3_bucket_public_access_block.state.ignore_public_acls && aws_s3_bucket_public_access_block.state.restrict_public_buckets
    )
    error_message = "the state bucket must block every form of public access"
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_s3_bucket_policy.state.policy).Statement :
      statement.Effect == "Deny" && statement.Condition.Bool["aws:SecureTransport"] == "false"
    ])
    error_message = "the state bucket must refuse plain HTTP"
  }
}

run "an_existing_oidc_provider_is_looked_up_not_created" {
  command = apply

  variables {
    create_oidc_provider = false
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && output.oidc_provider_arn == "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    error_message = "with create_oidc_provider = false the account's provider is looked up"
  }
}

run "a_customer_key_is_granted_to_the_roles_that_need_it" {
  command = apply

  variables {
    state_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/state"
    stacks = {
      dev  = { name = "cqrs-dev" }
      prod = { name = "cqrs-prod", kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/prod" }
    }
  }

  assert {
    condition = (
      strcontains(aws_iam_role_policy.apply["prod"].policy, "key/prod") && !strcontains(aws_iam_role_policy.apply["dev"].policy, "key/prod") &&
      strcontains(aws_iam_role_policy.plan.policy, "key/state") &&
      one(one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/state"
    )
    error_message = "each key is granted to the roles of its stack, the state key to all of them"
  }
}

run "a_wildcard_repository_is_refused" {
  command = plan

  variables {
    github_repository = "my-org/*"
  }

  expect_failures = [var.github_repository]
}

run "an_unknown_environment_is_refused" {
  command = plan

  variables {
    stacks = { staging = { name = "cqrs-staging" } }
  }

  expect_failures = [var.stacks]
}

run "two_environments_sharing_a_stack_name_are_refused" {
  command = plan

  variables {
    stacks = { dev = { name = "cqrs" }, prod = { name = "cqrs" } }
  }

  expect_failures = [var.stacks]
}

run "an_invalid_bucket_name_is_refused" {
  command = plan

  variables {
    state_bucket_name = "Terraform_State"
  }

  expect_failures = [var.state_bucket_name]
}
