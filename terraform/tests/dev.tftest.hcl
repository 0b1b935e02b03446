# Plans (with a mocked AWS provider) the root stack with environments/dev.tfvars, which the test command
# passes: terraform test -filter=tests/dev.tftest.hcl -var-file=environments/dev.tfvars \
#                        -var=projector_package_file=<any zip>
mock_provider "aws" {
  source = "./tests/mocks"
}

# The table's ARNs must name the table, as AWS's do.
override_resource {
  target = module.table.aws_dynamodb_table.this
  values = {
    arn        = "arn:aws:dynamodb:eu-west-1:111122223333:table/cqrs-dev-table"
    stream_arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/cqrs-dev-table/stream/2026-01-01T00:00:00.000"
  }
}

run "dev_stack_is_wired_secure_and_cheap" {
  command = apply

  assert {
    condition     = module.table.table_stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "the projector needs NEW_AND_OLD_IMAGES stream records"
  }

  assert {
    condition     = module.table.table_deletion_protection_enabled == true
    error_message = "deletion protection must stay on by default"
  }

  assert {
    condition = (
      module.projector.event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"]) &&
      module.projector.event_source_mapping.bisect_batch_on_function_error &&
      module.projector.event_source_mapping.maximum_retry_attempts >= 0 && module.projector.event_source_mapping.maximum_retry_attempts <= 10 &&
      module.projector.event_source_mapping.maximum_record_age_in_seconds > 0 && module.projector.event_source_mapping.maximum_record_age_in_seconds <= 86400 &&
      module.projector.event_source_mapping.on_failure_destination_arn == "arn:aws:sqs:eu-west-1:111122223333:cqrs-mock-queue"
    )
    error_message = "the stream mapping must report item failures, bisect, bound retries and record age, and park failures"
  }

  assert {
    condition = (
      module.search.security.encrypt_at_rest && module.search.security.node_to_node_encryption &&
      module.search.security.enforce_https && startswith(module.search.security.tls_security_policy, "Policy-Min-TLS-1-2") &&
      module.search.security.fine_grained_access && !module.search.security.internal_user_database &&
      module.search.security.audit_logs_published
    )
    error_message = "the domain must encrypt, require TLS 1.2+, use fine-grained access control with IAM and publish audit logs"
  }

  assert {
    condition     = module.api.runtimes == tolist(["APPSYNC_JS/1.0.0"])
    error_message = "every resolver and function must run on APPSYNC_JS 1.0.0"
  }

  assert {
    condition     = module.api.log_config.field_log_level == "ERROR" && module.api.log_config.exclude_verbose_content
    error_message = "API logs: ERROR level, no request or response contents"
  }

  assert {
    condition = alltrue(flatten([
      for document in values(merge(module.projector.iam_policies, module.search.iam_policies, module.api.iam_policies)) : [
        for statement in jsondecode(document).Statement : [for resource in flatten([try(statement.Resource, [])]) : resource != "*"]
      ]
    ]))
    error_message = "no policy of the stack may name the resource *"
  }

  assert {
    condition = (
      startswith(output.graphql_url, "https://") && output.region == "eu-west-1" && output.table_name == "cqrs-dev-table" &&
      output.search_endpoint == "https://search-cqrs-mock-abc.eu-west-1.es.amazonaws.com" &&
      output.dead_letter_queue_url == "https://sqs.eu-west-1.amazonaws.com/111122223333/cqrs-mock-queue" &&
      output.on_failure_queue_url == "https://sqs.eu-west-1.amazonaws.com/111122223333/cqrs-mock-queue" &&
      output.auth.user_pool_id == "eu-west-1_AbCdEfGhI" && output.auth.user_pool_client_id == "1example23456789abcdefghij" && output.auth.iam
    )
    error_message = "the outputs must carry docs/design.md §6's keys"
  }

  assert {
    condition     = module.search.cluster.instance_count == 1 && !module.search.security.zone_awareness_enabled && !module.search.security.dedicated_master_enabled
    error_message = "dev runs one search node"
  }

  assert {
    condition     = module.api.authentication_types == ["AMAZON_COGNITO_USER_POOLS", "AWS_IAM", "API_KEY"] && output.auth.api_key == "da2-mockmockmockmockmockmock"
    error_message = "dev adds a development API key after user pools and IAM"
  }

  assert {
    condition     = module.api.web_acl_arn == null
    error_message = "dev runs without a WAF"
  }
}

# The root refuses Serverless (variables.tf; tests/serverless.tftest.hcl holds the refusal's tests);
# modules/search keeps testing the collection variant itself.
run "serverless_search_is_refused_at_the_root" {
  command = plan

  variables {
    search = {
      engine          = "serverless"
      profile         = "dev"
      master_user_arn = "arn:aws:iam::111122223333:role/search-admin"
    }
  }

  expect_failures = [var.search]
}

run "tombstone_purge_is_scheduled_and_admitted_by_the_domain" {
  command = apply

  assert {
    condition     = output.tombstone_purge.schedule_expression == "rate(6 hours)" && output.tombstone_purge.state == "ENABLED" && output.tombstone_purge.function_name == "cqrs-dev-projector-purge"
    error_message = "the stack must schedule the tombstone purge every 6 hours by default"
  }

  assert {
    condition     = length([for s in jsondecode(module.search.iam_policies.domain_access).Statement : s if s.Sid == "PurgeDeletesOldTombstones" && s.Principal.AWS == [output.projector_purge_role_arn]]) == 1
    error_message = "the domain's access policy must admit the purge role"
  }
}

run "tombstone_purge_follows_the_projector_settings" {
  command = plan

  variables {
    projector = { tombstone_retention_hours = 96, tombstone_purge_schedule = "rate(1 day)", tombstone_purge_enabled = false }
  }

  assert {
    condition     = module.projector.purge_schedule.schedule_expression == "rate(1 day)" && module.projector.purge_schedule.state == "DISABLED"
    error_message = "the schedule and its switch must reach the projector module"
  }
}

run "rejects_a_tombstone_retention_within_the_stream_retention" {
  command = plan

  variables {
    projector = { tombstone_retention_hours = 24 }
  }

  expect_failures = [var.projector]
}

run "rejects_a_name_too_long_for_the_domain" {
  command = plan

  variables {
    name = "cqrs-development-environment"
  }

  expect_failures = [var.name]
}

run "rejects_an_unknown_environment" {
  command = plan

  variables {
    environment = "staging"
  }

  expect_failures = [var.environment]
}

run "rejects_a_region_that_is_not_one" {
  command = plan

  variables {
    region = "europe"
  }

  expect_failures = [var.region]
}
