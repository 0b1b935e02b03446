# The root stack, planned (mocked AWS provider) once with each environment's variables. The test command
# passes the environment (tests/terraform runs this file once per environments/*.tfvars):
#   terraform test -filter=tests/stack.tftest.hcl -var-file=environments/<env>.tfvars \
#                  -var=projector_package_file=<any zip>
# What differs between environments is asserted in tests/<env>.tftest.hcl.
mock_provider "aws" {
  source = "./tests/mocks"
}

# The one variable this file fixes: the mocked table's ARN names this stack (see tests/mocks).
variables {
  name = "cqrs-stack"
}

run "stack_is_wired_and_secure" {
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
      startswith(output.graphql_url, "https://") && output.region == "eu-west-1" && output.table_name == "cqrs-stack-table" &&
      output.search_endpoint == "https://search-cqrs-mock-abc.eu-west-1.es.amazonaws.com" &&
      output.dead_letter_queue_url == "https://sqs.eu-west-1.amazonaws.com/111122223333/cqrs-mock-queue" &&
      output.on_failure_queue_url == "https://sqs.eu-west-1.amazonaws.com/111122223333/cqrs-mock-queue" &&
      output.auth.user_pool_id == "eu-west-1_AbCdEfGhI" && output.auth.user_pool_client_id == "1example23456789abcdefghij" && output.auth.iam
    )
    error_message = "the outputs must carry docs/design.md §6's keys"
  }

  assert {
    condition     = output.tombstone_purge.schedule_expression == "rate(6 hours)" && output.tombstone_purge.state == "ENABLED" && output.tombstone_purge.function_name == "cqrs-stack-projector-purge"
    error_message = "the stack must schedule the tombstone purge every 6 hours by default"
  }

  assert {
    condition     = length([for s in jsondecode(module.search.iam_policies.domain_access).Statement : s if s.Sid == "PurgeDeletesOldTombstones" && s.Principal.AWS == [output.projector_purge_role_arn]]) == 1
    error_message = "the domain's access policy must admit the purge role"
  }
}

# The review cascade deletes in the table the API writes; nothing else of the stack gets those rights.
run "review_cascade_is_wired_to_the_stacks_table" {
  command = apply

  assert {
    condition = (
      output.review_cascade.function_name == "cqrs-stack-projector-cascade" &&
      output.review_cascade.role_arn == module.projector.cascade_role_arn &&
      startswith(output.review_cascade.on_failure_queue_url, "https://sqs.")
    )
    error_message = "the stack must expose the review cascade's function, role and on-failure queue"
  }

  assert {
    condition     = one([for s in jsondecode(module.projector.iam_policies.cascade).Statement : s.Resource if s.Sid == "DeleteOrphanedReviews"]) == ["arn:aws:dynamodb:eu-west-1:111122223333:table/cqrs-stack-table"]
    error_message = "the cascade may delete in the stack's table only"
  }

  assert {
    condition     = [for p in module.projector.cascade_event_source_mapping.filter_patterns : jsondecode(p).dynamodb.NewImage] == [{ pk = { S = [{ exists = false }] } }]
    error_message = "the cascade's mapping must be filtered to records without a new image (REMOVEs)"
  }

  assert {
    condition     = !anytrue([for s in jsondecode(module.projector.iam_policies.projector).Statement : contains(s.Action, "dynamodb:DeleteItem")])
    error_message = "the projector's role stays read-only on the table"
  }
}

run "review_cascade_follows_the_projector_settings" {
  command = plan

  variables {
    projector = { review_cascade_enabled = false, review_cascade_timeout = 120 }
  }

  assert {
    condition     = module.projector.cascade_event_source_mapping.enabled == false
    error_message = "review_cascade_enabled must reach the cascade's mapping"
  }
}

# The root refuses Serverless (variables.tf): tests/serverless.tftest.hcl holds the refusal's tests, and
# modules/search keeps testing the collection variant itself.

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

# The root passes the projector module's stream_mapping through whole: every field it declares, including
# the two a copy of its type once left out (bisect_batch_on_function_error, starting_position).
run "every_stream_mapping_field_reaches_the_event_source_mapping" {
  command = plan

  variables {
    projector = {
      stream_mapping = {
        batch_size                         = 250
        maximum_batching_window_in_seconds = 5
        maximum_retry_attempts             = 3
        maximum_record_age_in_seconds      = 3600
        bisect_batch_on_function_error     = false
        parallelization_factor             = 4
        starting_position                  = "LATEST"
      }
    }
  }

  assert {
    condition = (
      module.projector.event_source_mapping.batch_size == 250 &&
      module.projector.event_source_mapping.maximum_batching_window_in_seconds == 5 &&
      module.projector.event_source_mapping.maximum_retry_attempts == 3 &&
      module.projector.event_source_mapping.maximum_record_age_in_seconds == 3600 &&
      module.projector.event_source_mapping.parallelization_factor == 4
    )
    error_message = "the stream mapping overrides must reach the event source mapping"
  }

  assert {
    condition     = module.projector.event_source_mapping.bisect_batch_on_function_error == false && module.projector.event_source_mapping.starting_position == "LATEST"
    error_message = "bisect_batch_on_function_error and starting_position must be settable from the stack"
  }
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
