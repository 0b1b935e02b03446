locals {
  # Defaults shared with the local poller; callers override single fields.
  mapping = merge(
    jsondecode(file("${path.module}/../../definitions/stream_mapping.json")),
    { for key, value in var.stream_mapping : key => value if value != null },
  )
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn                   = var.table_stream_arn
  function_name                      = aws_lambda_function.this.arn
  starting_position                  = local.mapping.starting_position
  batch_size                         = local.mapping.batch_size
  maximum_batching_window_in_seconds = local.mapping.maximum_batching_window_in_seconds
  maximum_retry_attempts             = local.mapping.maximum_retry_attempts
  maximum_record_age_in_seconds      = local.mapping.maximum_record_age_in_seconds
  bisect_batch_on_function_error     = local.mapping.bisect_batch_on_function_error
  parallelization_factor             = local.mapping.parallelization_factor
  function_response_types            = local.mapping.function_response_types

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }

  tags = local.tags

  lifecycle {
    # Without it Lambda ignores the projector's batchItemFailures and retries whole batches.
    precondition {
      condition     = contains(local.mapping.function_response_types, "ReportBatchItemFailures")
      error_message = "definitions/stream_mapping.json must list ReportBatchItemFailures in function_response_types."
    }
  }

  # The role must be able to read the stream before Lambda accepts the mapping.
  depends_on = [aws_iam_role_policy.this]
}
