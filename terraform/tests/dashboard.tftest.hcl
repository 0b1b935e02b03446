# The operations dashboard (dashboard.tf), planned with the mocked provider once per environment. The
# names of the projector's own metrics come from definitions/metrics.json; that they are the names the
# code emits is tests/terraform/test_dashboard_drift.py's job. Here: every graph points at this stack's
# resources, with the dimensions CloudWatch keys those metrics by.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "cqrs-stack"
}

run "dashboard_shows_what_an_operator_looks_at_first" {
  command = apply

  assert {
    condition     = aws_cloudwatch_dashboard.operations.dashboard_name == "cqrs-stack-operations"
    error_message = "one dashboard per stack, named after it"
  }

  assert {
    condition     = output.dashboard_url == "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=cqrs-stack-operations"
    error_message = "the dashboard's URL must be among the outputs"
  }

  # Every line as "namespace/metric dimension=value ..." (the options object at its end left out).
  assert {
    condition = length(setsubtract(toset([
      "appsync-cqrs/projection_lag service=projector",
      "appsync-cqrs/bulk_latency service=projector",
      "appsync-cqrs/indexed service=projector",
      "appsync-cqrs/stale service=projector",
      "appsync-cqrs/poisoned service=projector",
      "appsync-cqrs/retried service=projector",
      "appsync-cqrs/signals_published service=projector",
      "appsync-cqrs/signal_publish_failed service=projector",
      "appsync-cqrs/tombstones_purged service=projector-purge",
      "appsync-cqrs/tombstone_purge_failed service=projector-purge",
      "AWS/Lambda/IteratorAge FunctionName=cqrs-stack-projector",
      "AWS/Lambda/Errors FunctionName=cqrs-stack-projector",
      "AWS/Lambda/Throttles FunctionName=cqrs-stack-projector",
      "AWS/Lambda/Errors FunctionName=cqrs-stack-projector-purge",
      "AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=cqrs-stack-projector-dead-letter",
      "AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=cqrs-stack-projector-on-failure",
      "AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=cqrs-stack-projector-cascade-on-failure",
      "AWS/Lambda/Errors FunctionName=cqrs-stack-projector-cascade",
      "AWS/Lambda/IteratorAge FunctionName=cqrs-stack-projector-cascade",
      "AWS/AppSync/4XXError GraphQLAPIId=abcdefghijklmnopqrstuvwxyz",
      "AWS/AppSync/5XXError GraphQLAPIId=abcdefghijklmnopqrstuvwxyz",
      "AWS/AppSync/Latency GraphQLAPIId=abcdefghijklmnopqrstuvwxyz",
      "AWS/ES/ClusterStatus.red DomainName=cqrs-mock ClientId=111122223333",
      "AWS/ES/ClusterStatus.yellow DomainName=cqrs-mock ClientId=111122223333",
      "AWS/ES/IndexingRate DomainName=cqrs-mock ClientId=111122223333",
      ]), toset(flatten([
        for widget in jsondecode(aws_cloudwatch_dashboard.operations.dashboard_body).widgets : [
          for line in widget.properties.metrics : "${line[0]}/${line[1]} ${join(" ", [for i in range(2, length(line) - 1, 2) : "${line[i]}=${line[i + 1]}"])}"
        ]
    ])))) == 0
    error_message = "the dashboard must graph projection lag, iterator age, bulk latency, the outcomes, the signals, every queue (the review cascade's too), errors and throttles, AppSync 4xx/5xx/latency and the domain's health and indexing rate, each with this stack's dimensions"
  }

  assert {
    condition = alltrue([
      for widget in jsondecode(aws_cloudwatch_dashboard.operations.dashboard_body).widgets :
      widget.properties.region == "eu-west-1" && widget.x + widget.width <= 24 && length(widget.properties.metrics) > 0
    ])
    error_message = "every widget graphs something, in the stack's region, within the dashboard's 24 columns"
  }
}
