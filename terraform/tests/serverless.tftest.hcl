# The root stack refuses an OpenSearch Serverless read model, with the reason in the error (see the
# validation of var.search and terraform/README.md). Planned with each environment's file like every
# root test file; the variables below take precedence over it.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name        = "cqrs-stack"
  environment = "dev"
  region      = "eu-west-1"
}

run "serverless_is_refused_with_its_reason" {
  command = plan

  variables {
    search = {
      engine          = "serverless"
      master_user_arn = "arn:aws:iam::111122223333:role/search-admin"
    }
  }

  expect_failures = [var.search]
}

run "an_unknown_engine_is_refused" {
  command = plan

  variables {
    search = {
      engine          = "elasticsearch"
      master_user_arn = "arn:aws:iam::111122223333:role/search-admin"
    }
  }

  expect_failures = [var.search]
}

run "the_domain_engine_still_plans" {
  command = plan

  variables {
    search = {
      engine          = "domain"
      profile         = "dev"
      master_user_arn = "arn:aws:iam::111122223333:role/search-admin"
    }
  }

  assert {
    condition     = module.search.engine == "domain"
    error_message = "the refusal must not touch the domain engine"
  }
}
