# Mocked AWS provider: plans and "applies" with made-up but realistic computed values.
mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:cqrs-test-queue"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/cqrs-test-queue"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/cqrs-test-projector"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/cqrs-test"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:cqrs-test"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-east-1:123456789012:rule/cqrs-test-purge"
    }
  }
}

# package_file comes from the command line (tests/terraform creates a real zip): -var=package_file=...
variables {
  name             = "cqrs-test"
  table_stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test/stream/2026-01-01T00:00:00.000"
  search = {
    endpoint     = "https://search-cqrs-test.us-east-1.es.amazonaws.com"
    auth         = "sigv4"
    resource_arn = "arn:aws:es:us-east-1:123456789012:domain/cqrs-test"
  }
}

run "defaults_are_bounded_traced_and_least_privilege" {
  command = apply

  assert {
    condition     = aws_lambda_event_source_mapping.stream.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the mapping must honour the projector's batchItemFailures"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.stream.bisect_batch_on_function_error == true
    error_message = "a failing batch must be bisected"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.stream.maximum_retry_attempts == 10 && aws_lambda_event_source_mapping.stream.maximum_record_age_in_seconds == 21600
    error_message = "retries and record age must be bounded (defaults from definitions/stream_mapping.json)"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.stream.batch_size == 500 && aws_lambda_event_source_mapping.stream.maximum_batching_window_in_seconds == 0 && aws_lambda_event_source_mapping.stream.parallelization_factor == 1
    error_message = "batch size, window and parallelization must follow definitions/stream_mapping.json"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.stream.starting_position == "TRIM_HORIZON" && aws_lambda_event_source_mapping.stream.event_source_arn == var.table_stream_arn
    error_message = "the mapping must read the table's stream from its oldest record"
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "Python 3.12 on arm64 by default"
  }

  assert {
    condition = (
      aws_lambda_function.this.runtime == jsondecode(file("../../definitions/projector_runtime.json")).runtime &&
      aws_lambda_function.this.architectures == tolist([jsondecode(file("../../definitions/projector_runtime.json")).architecture])
    )
    error_message = "runtime and architecture must come from definitions/projector_runtime.json, which the build reads"
  }

  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active"
    error_message = "X-Ray tracing must be active"
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "no reserved concurrency unless asked"
  }

  assert {
    condition = (
      one(aws_lambda_function.this.environment).variables["OPENSEARCH_ENDPOINT"] == "https://search-cqrs-test.us-east-1.es.amazonaws.com" &&
      one(aws_lambda_function.this.environment).variables["OPENSEARCH_AUTH"] == "sigv4" &&
      one(aws_lambda_function.this.environment).variables["DEAD_LETTER_QUEUE_URL"] == "https://sqs.us-east-1.amazonaws.com/123456789012/cqrs-test-queue" &&
      one(aws_lambda_function.this.environment).variables["TOMBSTONE_RETENTION_HOURS"] == "48" &&
      one(aws_lambda_function.this.environment).variables["LOG_ITEM_CONTENTS"] == "false" &&
      one(aws_lambda_function.this.environment).variables["BULK_MAX_ACTIONS"] == "1000"
    )
    error_message = "the environment must carry docs/design.md §5's variables"
  }

  assert {
    condition     = one(one(aws_lambda_event_source_mapping.stream.destination_config).on_failure).destination_arn == aws_sqs_queue.on_failure.arn
    error_message = "failed batches must go to the on-failure queue"
  }

  assert {
    condition     = aws_sqs_queue.dead_letter.sqs_managed_sse_enabled && aws_sqs_queue.on_failure.sqs_managed_sse_enabled
    error_message = "both queues must be encrypted"
  }

  assert {
    condition     = aws_sqs_queue.dead_letter.max_message_size == 262144 && aws_sqs_queue.on_failure.max_message_size == 262144
    error_message = "both queues take 256 KiB messages (definitions/queues.json; the projector cuts dead letters to it)"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.iterator_age) == 1 && length(aws_cloudwatch_metric_alarm.errors) == 1 && toset(keys(aws_cloudwatch_metric_alarm.queue_depth)) == toset(["dead-letter", "on-failure", "cascade-on-failure"])
    error_message = "alarms on iterator age, errors and every queue's depth (the cascade's on-failure queue too)"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.iterator_age[0].threshold == 300000
    error_message = "the iterator-age threshold is in milliseconds"
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : [
        for resource in statement.Resource : resource != "*" && !startswith(resource, "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/*")
      ]
    ]))
    error_message = "no statement may use a bare * or the whole domain"
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadTheStream"]) == [var.table_stream_arn]
    error_message = "stream permissions must name the stream"
  }

  # The names come from definitions/indices.json; written out here on purpose. Exactly the projector's two
  # requests: POST /_bulk and GET /_alias/<write alias> (issue 16, item 4).
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : { sid = s.Sid, action = s.Action, resource = s.Resource } if anytrue([for a in s.Action : startswith(a, "es:")])] == [
      { sid = "WriteTheReadModel", action = ["es:ESHttpPost"], resource = ["arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_bulk"] },
      { sid = "ResolveTheWriteAliases", action = ["es:ESHttpGet"], resource = ["arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_alias/listings-write", "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_alias/reviews-write"] },
    ]
    error_message = "the projector may POST /_bulk and GET its write aliases, nothing else on the domain"
  }

  assert {
    condition     = !anytrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : anytrue([for a in s.Action : startswith(a, "dynamodb:") && !contains(["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], a)])])
    error_message = "the projector must not read or write the table itself"
  }
}

run "tombstone_purge_runs_on_a_schedule_with_least_privilege" {
  command = apply

  assert {
    condition     = aws_cloudwatch_event_rule.purge.schedule_expression == "rate(6 hours)" && aws_cloudwatch_event_rule.purge.state == "ENABLED"
    error_message = "the purge must be scheduled every 6 hours and enabled by default"
  }

  assert {
    condition     = aws_cloudwatch_event_target.purge.rule == aws_cloudwatch_event_rule.purge.name && aws_cloudwatch_event_target.purge.arn == aws_lambda_function.purge.arn
    error_message = "the schedule must target the purge function"
  }

  assert {
    condition     = aws_lambda_permission.purge.source_arn == aws_cloudwatch_event_rule.purge.arn && aws_lambda_permission.purge.principal == "events.amazonaws.com" && aws_lambda_permission.purge.function_name == aws_lambda_function.purge.function_name
    error_message = "only the purge rule may invoke the purge function"
  }

  assert {
    condition = (
      aws_lambda_function.purge.handler == "projector.purge.lambda_handler" &&
      aws_lambda_function.purge.filename == aws_lambda_function.this.filename &&
      aws_lambda_function.purge.runtime == aws_lambda_function.this.runtime &&
      aws_lambda_function.purge.architectures == aws_lambda_function.this.architectures &&
      one(aws_lambda_function.purge.tracing_config).mode == "Active" &&
      aws_lambda_function.purge.role == aws_iam_role.purge.arn &&
      aws_iam_role.purge.name != aws_iam_role.this.name
    )
    error_message = "the purge is the same zip, runtime and architecture, traced, under its own role"
  }

  assert {
    condition = (
      one(aws_lambda_function.purge.environment).variables["TOMBSTONE_RETENTION_HOURS"] == "48" &&
      one(aws_lambda_function.purge.environment).variables["OPENSEARCH_ENDPOINT"] == var.search.endpoint &&
      one(aws_lambda_function.purge.environment).variables["OPENSEARCH_AUTH"] == "sigv4" &&
      !contains(keys(one(aws_lambda_function.purge.environment).variables), "DEAD_LETTER_QUEUE_URL")
    )
    error_message = "the purge reads the projector's variables (retention 48 h) and needs no dead-letter queue"
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.purge.policy).Statement : [
        for resource in statement.Resource : resource != "*" && !endswith(resource, ":domain/cqrs-test/*")
      ]
    ]))
    error_message = "no statement of the purge's policy may use a bare * or the whole domain"
  }

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.purge.policy).Statement : s.Resource if s.Sid == "PurgeOldTombstones"]) == [
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_alias/listings-write",
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_alias/reviews-write",
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/listings-v*/_delete_by_query",
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/reviews-v*/_delete_by_query",
    ]
    error_message = "the purge may only look up the write aliases and delete by query in the entity indices"
  }

  assert {
    condition     = toset(flatten([for s in jsondecode(aws_iam_role_policy.purge.policy).Statement : s.Action])) == toset(["es:ESHttpGet", "es:ESHttpPost", "logs:CreateLogStream", "logs:PutLogEvents"])
    error_message = "the purge needs GET and POST on the domain and its own logs, nothing else (no bulk writes, no queues, no stream)"
  }

  assert {
    condition     = aws_cloudwatch_log_group.purge.name == "/aws/lambda/cqrs-test-purge" && aws_cloudwatch_log_group.purge.retention_in_days == 365 && one(aws_lambda_function.purge.logging_config).log_group == aws_cloudwatch_log_group.purge.name
    error_message = "the purge logs into its own log group, with retention"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.purge_errors) == 1 && aws_cloudwatch_metric_alarm.purge_errors[0].dimensions["FunctionName"] == aws_lambda_function.purge.function_name && aws_cloudwatch_metric_alarm.purge_errors[0].treat_missing_data == "ignore"
    error_message = "a failed purge must raise an alarm that holds until a later run succeeds"
  }

  assert {
    condition     = output.purge_schedule.state == "ENABLED" && output.purge_role_arn == aws_iam_role.purge.arn
    error_message = "the outputs must expose the schedule and the purge role"
  }
}

# The filter is written out here on purpose (definitions/review_cascade.json holds it, and the local poller
# reads the same file): only a listing's REMOVE reaches the cascade.
run "review_cascade_receives_only_listing_removes_and_may_only_delete_in_the_table" {
  command = apply

  assert {
    condition = [for f in one(aws_lambda_event_source_mapping.cascade.filter_criteria).filter : jsondecode(f.pattern)] == [{
      dynamodb = {
        Keys     = { pk = { S = [{ prefix = "LISTING#" }] }, sk = { S = ["LISTING"] } }
        NewImage = { pk = { S = [{ exists = false }] } }
      }
    }]
    error_message = "the cascade's mapping must pass only REMOVE records of listing items (pk LISTING#<id>, sk LISTING)"
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.cascade.event_source_arn == var.table_stream_arn &&
      aws_lambda_event_source_mapping.cascade.function_name == aws_lambda_function.cascade.arn &&
      aws_lambda_event_source_mapping.cascade.enabled == true &&
      aws_lambda_event_source_mapping.cascade.function_response_types == toset(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.cascade.bisect_batch_on_function_error == true &&
      aws_lambda_event_source_mapping.cascade.maximum_retry_attempts == 10 &&
      aws_lambda_event_source_mapping.cascade.maximum_record_age_in_seconds == 21600 &&
      aws_lambda_event_source_mapping.cascade.batch_size == 10 &&
      aws_lambda_event_source_mapping.cascade.starting_position == "TRIM_HORIZON"
    )
    error_message = "the cascade's own mapping on the table's stream: partial batch responses, bisect, bounded retries and age"
  }

  assert {
    condition     = one(one(aws_lambda_event_source_mapping.cascade.destination_config).on_failure).destination_arn == aws_sqs_queue.cascade_on_failure.arn && aws_sqs_queue.cascade_on_failure.name == "cqrs-test-cascade-on-failure" && aws_sqs_queue.cascade_on_failure.sqs_managed_sse_enabled
    error_message = "batches the cascade gives up on go to its own encrypted on-failure queue"
  }

  assert {
    condition = (
      aws_lambda_function.cascade.handler == "projector.cascade.lambda_handler" &&
      aws_lambda_function.cascade.function_name == "cqrs-test-cascade" &&
      aws_lambda_function.cascade.filename == aws_lambda_function.this.filename &&
      aws_lambda_function.cascade.runtime == aws_lambda_function.this.runtime &&
      aws_lambda_function.cascade.architectures == aws_lambda_function.this.architectures &&
      aws_lambda_function.cascade.timeout == 300 &&
      one(aws_lambda_function.cascade.tracing_config).mode == "Active" &&
      aws_lambda_function.cascade.role == aws_iam_role.cascade.arn &&
      !contains([aws_iam_role.this.name, aws_iam_role.purge.name], aws_iam_role.cascade.name)
    )
    error_message = "the cascade is the same zip, runtime and architecture, traced, under a role of its own"
  }

  assert {
    condition     = one(aws_lambda_function.cascade.environment).variables == tomap({ TABLE_NAME = "cqrs-test", LOG_LEVEL = "INFO" })
    error_message = "the cascade gets the table's name (from the stream ARN) and nothing of the search side"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.cascade.policy).Statement : { sid = s.Sid, action = s.Action, resource = s.Resource }] == [
      {
        sid      = "ReadTheStream"
        action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
        resource = [var.table_stream_arn]
      },
      {
        sid      = "DeleteOrphanedReviews"
        action   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"]
        resource = ["arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test"]
      },
      {
        sid      = "ReportGivenUpBatches"
        action   = ["sqs:SendMessage"]
        resource = [aws_sqs_queue.cascade_on_failure.arn]
      },
      {
        sid      = "WriteItsLogs"
        action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resource = ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/cqrs-test:*"]
      },
    ]
    error_message = "the cascade's role: read the stream, GetItem/Query/DeleteItem on the table itself (no index, no *), its queue and its logs"
  }

  assert {
    condition     = aws_cloudwatch_log_group.cascade.name == "/aws/lambda/cqrs-test-cascade" && aws_cloudwatch_log_group.cascade.retention_in_days == 365 && one(aws_lambda_function.cascade.logging_config).log_group == aws_cloudwatch_log_group.cascade.name
    error_message = "the cascade logs into its own log group, with retention"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.cascade_iterator_age) == 1 && aws_cloudwatch_metric_alarm.cascade_iterator_age[0].dimensions["FunctionName"] == aws_lambda_function.cascade.function_name
    error_message = "a stalled cascade must raise an alarm"
  }

  assert {
    condition     = output.cascade_role_arn == aws_iam_role.cascade.arn && output.cascade_event_source_mapping.filter_patterns == [for f in one(aws_lambda_event_source_mapping.cascade.filter_criteria).filter : f.pattern]
    error_message = "the outputs must expose the cascade's role and filter"
  }
}

run "review_cascade_can_be_paused_and_uses_the_customer_key" {
  command = plan

  variables {
    review_cascade_enabled = false
    review_cascade_timeout = 60
    kms_key_arn            = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000000"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.cascade.enabled == false && aws_lambda_function.cascade.timeout == 60
    error_message = "pausing the cascade stops its mapping only; the timeout follows the variable"
  }

  assert {
    condition     = aws_sqs_queue.cascade_on_failure.kms_master_key_id == var.kms_key_arn && aws_lambda_function.cascade.kms_key_arn == var.kms_key_arn && aws_cloudwatch_log_group.cascade.kms_key_id == var.kms_key_arn
    error_message = "the customer-managed key encrypts the cascade's queue, environment and logs"
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.cascade.policy).Statement : s.Resource if s.Sid == "UseTheCustomerManagedKey"]) == [var.kms_key_arn]
    error_message = "the cascade may use exactly the customer-managed key"
  }
}

run "rejects_a_cascade_timeout_within_its_margin" {
  command = plan

  variables {
    review_cascade_timeout = 10
  }

  expect_failures = [var.review_cascade_timeout]
}

run "tombstone_purge_can_be_paused_and_follows_the_retention" {
  command = plan

  variables {
    tombstone_purge_enabled  = false
    tombstone_purge_schedule = "cron(0 3 * * ? *)"
    settings                 = { tombstone_retention_hours = 72 }
    alarms                   = { enabled = false }
  }

  assert {
    condition     = aws_cloudwatch_event_rule.purge.state == "DISABLED" && aws_cloudwatch_event_rule.purge.schedule_expression == "cron(0 3 * * ? *)"
    error_message = "disabling must only pause the schedule"
  }

  assert {
    condition     = one(aws_lambda_function.purge.environment).variables["TOMBSTONE_RETENTION_HOURS"] == "72"
    error_message = "the purge must use settings.tombstone_retention_hours"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.purge_errors) == 0
    error_message = "alarms.enabled = false turns off the purge alarm too"
  }
}

run "rejects_a_malformed_purge_schedule" {
  command = plan

  variables {
    tombstone_purge_schedule = "every 6 hours"
  }

  expect_failures = [var.tombstone_purge_schedule]
}

run "overrides_replace_single_fields" {
  command = plan

  variables {
    stream_mapping = { batch_size = 100, parallelization_factor = 4 }
  }

  assert {
    condition     = aws_lambda_event_source_mapping.stream.batch_size == 100 && aws_lambda_event_source_mapping.stream.parallelization_factor == 4 && aws_lambda_event_source_mapping.stream.maximum_retry_attempts == 10
    error_message = "an override must change its field and keep the file's defaults for the others"
  }
}

run "serverless_target_and_customer_key" {
  command = apply

  variables {
    search = {
      endpoint     = "https://abc123.us-east-1.aoss.amazonaws.com"
      auth         = "sigv4-aoss"
      resource_arn = "arn:aws:aoss:us-east-1:123456789012:collection/abc123"
    }
    kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000000"
    reserved_concurrency = 5
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "WriteTheReadModel"]) == ["arn:aws:aoss:us-east-1:123456789012:collection/abc123"]
    error_message = "a Serverless target opens exactly the collection"
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.purge.policy).Statement : s.Resource if s.Sid == "PurgeOldTombstones"]) == ["arn:aws:aoss:us-east-1:123456789012:collection/abc123"]
    error_message = "a Serverless target opens exactly the collection to the purge"
  }

  assert {
    condition     = aws_sqs_queue.dead_letter.kms_master_key_id == var.kms_key_arn && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "the customer-managed key must encrypt the queues and the environment"
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 5
    error_message = "reserved concurrency must be applied when given"
  }
}

run "rejects_unbounded_retries" {
  command = plan

  variables {
    stream_mapping = { maximum_retry_attempts = -1 }
  }

  expect_failures = [var.stream_mapping]
}

run "rejects_unbounded_record_age" {
  command = plan

  variables {
    stream_mapping = { maximum_record_age_in_seconds = -1 }
  }

  expect_failures = [var.stream_mapping]
}

run "rejects_short_tombstone_retention" {
  command = plan

  variables {
    settings = { tombstone_retention_hours = 24 }
  }

  expect_failures = [var.settings]
}

# The purge deletes what is older than the retention: at 24 h or less a replayed stream record could
# resurrect a purged item.
run "rejects_a_purge_retention_within_the_stream_retention" {
  command = plan

  variables {
    settings = { tombstone_retention_hours = 12 }
  }

  expect_failures = [var.settings]
}

run "runtime_and_architecture_can_be_overridden_together" {
  command = plan

  variables {
    runtime      = "python3.13"
    architecture = "x86_64"
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.13" && aws_lambda_function.this.architectures == tolist(["x86_64"])
    error_message = "explicit runtime and architecture must replace the definitions' values"
  }

  assert {
    condition     = aws_lambda_function.purge.runtime == "python3.13" && aws_lambda_function.purge.architectures == tolist(["x86_64"])
    error_message = "the purge runs the same zip, so it must follow the same overrides"
  }
}

run "rejects_old_runtime" {
  command = plan

  variables {
    runtime = "python3.9"
  }

  expect_failures = [var.runtime]
}

run "rejects_plain_http_search_endpoint" {
  command = plan

  variables {
    search = {
      endpoint     = "http://search-cqrs-test.us-east-1.es.amazonaws.com"
      auth         = "sigv4"
      resource_arn = "arn:aws:es:us-east-1:123456789012:domain/cqrs-test"
    }
  }

  expect_failures = [var.search]
}

run "the_projection_signal_is_off_unless_configured" {
  command = plan

  assert {
    condition     = !contains(keys(one(aws_lambda_function.this.environment).variables), "PROJECTION_SIGNAL_URL")
    error_message = "without projection_signal the projector must not publish"
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "appsync:")
    error_message = "without projection_signal the role gets no AppSync permission"
  }
}

run "the_projection_signal_may_call_exactly_its_field" {
  command = apply

  variables {
    projection_signal = {
      graphql_url = "https://abc.appsync-api.us-east-1.amazonaws.com/graphql"
      field_arn   = "arn:aws:appsync:us-east-1:123456789012:apis/abc/types/Mutation/fields/publishListingProjected"
    }
  }

  assert {
    condition = (
      one(aws_lambda_function.this.environment).variables["PROJECTION_SIGNAL_URL"] == "https://abc.appsync-api.us-east-1.amazonaws.com/graphql" &&
      one(aws_lambda_function.this.environment).variables["PROJECTION_SIGNAL_BUDGET_MS"] == "200"
    )
    error_message = "the projector gets the GraphQL URL and a 200 ms budget"
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement
      if contains(statement.Action, "appsync:GraphQL")
      ] == [{
        Sid      = "PublishTheProjectionSignal"
        Effect   = "Allow"
        Action   = ["appsync:GraphQL"]
        Resource = ["arn:aws:appsync:us-east-1:123456789012:apis/abc/types/Mutation/fields/publishListingProjected"]
    }]
    error_message = "appsync:GraphQL on exactly Mutation.publishListingProjected, nothing else"
  }
}

run "rejects_a_field_other_than_the_signal" {
  command = plan

  variables {
    projection_signal = {
      graphql_url = "https://abc.appsync-api.us-east-1.amazonaws.com/graphql"
      field_arn   = "arn:aws:appsync:us-east-1:123456789012:apis/abc/*"
    }
  }

  expect_failures = [var.projection_signal]
}
