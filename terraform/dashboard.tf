# The operations dashboard: what an operator looks at first, one per stack.
#
# It lives in the root module, not in modules/projector, because it spans three modules: the projector
# (its function, queues and custom metrics), the API (AppSync's errors and latency) and the search domain
# (health, indexing rate). Each module stays usable alone; only the stack knows all three.
#
# The projector's own metrics (namespace appsync-cqrs, Powertools' `service` dimension) are named in
# definitions/metrics.json; tests/terraform/test_dashboard_drift.py ties those names to the ones the
# projector's code emits, so a renamed metric cannot leave an empty graph behind.
locals {
  metrics   = jsondecode(file("${path.module}/definitions/metrics.json"))
  projector = local.metrics.projector
  purge     = local.metrics.purge

  # arn:<partition>:es:<region>:<account>:domain/<name>: AWS/ES metrics are keyed by name and account.
  domain_arn_parts = split(":", module.search.resource_arn)
  domain_name      = try(split("/", local.domain_arn_parts[5])[1], "")
  domain_account   = try(local.domain_arn_parts[4], "")

  # One metric line: [namespace, name, dimension, value, ..., {options}] (the dashboard body's format).
  custom = { for service in [local.projector.service, local.purge.service] : service => ["service", service] }

  dashboard_widgets = concat(
    [
      {
        title = "Projection lag and stream iterator age (ms, max)"
        metrics = [
          concat([local.metrics.namespace, local.projector.lag], local.custom[local.projector.service], [{ stat = "Maximum", label = "projection lag (record written -> indexed)" }]),
          ["AWS/Lambda", "IteratorAge", "FunctionName", module.projector.function_name, { stat = "Maximum", label = "stream iterator age" }],
        ]
      },
      {
        title   = "Bulk latency (ms)"
        metrics = [for stat in ["p50", "p99", "Maximum"] : concat([local.metrics.namespace, local.projector.bulk_latency], local.custom[local.projector.service], [{ stat = stat, label = "_bulk ${stat}" }])]
      },
      {
        title   = "Projector outcomes (records per minute)"
        metrics = [for name in local.projector.outcomes : concat([local.metrics.namespace, name], local.custom[local.projector.service], [{ stat = "Sum", label = name }])]
      },
      {
        title = "Waiting: dead letters and on-failure batches"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.projector.dead_letter_queue_name, { stat = "Maximum", label = "dead-letter (poison records)" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.projector.on_failure_queue_name, { stat = "Maximum", label = "on-failure (batch metadata)" }],
          # Listings whose orphaned reviews the cascade gave up on (modules/projector/cascade.tf).
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.projector.cascade_on_failure_queue_name, { stat = "Maximum", label = "review cascade on-failure" }],
        ]
      },
      {
        title = "Errors and throttles: projector, tombstone purge, review cascade"
        metrics = [
          ["AWS/Lambda", "Errors", "FunctionName", module.projector.function_name, { stat = "Sum", label = "projector errors" }],
          ["AWS/Lambda", "Throttles", "FunctionName", module.projector.function_name, { stat = "Sum", label = "projector throttles" }],
          ["AWS/Lambda", "Errors", "FunctionName", module.projector.purge_function_name, { stat = "Sum", label = "tombstone purge errors" }],
          ["AWS/Lambda", "Errors", "FunctionName", module.projector.cascade_function_name, { stat = "Sum", label = "review cascade errors" }],
          ["AWS/Lambda", "IteratorAge", "FunctionName", module.projector.cascade_function_name, { stat = "Maximum", label = "review cascade iterator age (ms)" }],
        ]
      },
      {
        title   = "Projection signals to subscribers"
        metrics = [for name in local.projector.signals : concat([local.metrics.namespace, name], local.custom[local.projector.service], [{ stat = "Sum", label = name }])]
      },
      {
        title = "API errors (4xx, 5xx)"
        metrics = [
          ["AWS/AppSync", "4XXError", "GraphQLAPIId", module.api.api_id, { stat = "Sum", label = "4xx" }],
          ["AWS/AppSync", "5XXError", "GraphQLAPIId", module.api.api_id, { stat = "Sum", label = "5xx" }],
        ]
      },
      {
        title   = "API latency (ms)"
        metrics = [for stat in ["p50", "p99"] : ["AWS/AppSync", "Latency", "GraphQLAPIId", module.api.api_id, { stat = stat, label = stat }]]
      },
      {
        title   = "Tombstone purge"
        metrics = [for name in local.purge.counts : concat([local.metrics.namespace, name], local.custom[local.purge.service], [{ stat = "Sum", label = name }])]
      },
    ],
    # A domain's own health; a Serverless collection (refused today, see variables.tf) has none of these.
    module.search.engine != "domain" ? [] : [
      {
        title = "Search domain health (1 = in that state)"
        metrics = [for colour in ["green", "yellow", "red"] : [
          "AWS/ES", "ClusterStatus.${colour}", "DomainName", local.domain_name, "ClientId", local.domain_account, { stat = "Maximum", label = colour }
        ]]
      },
      {
        title = "Search indexing rate (operations per minute) and write pressure"
        metrics = [
          ["AWS/ES", "IndexingRate", "DomainName", local.domain_name, "ClientId", local.domain_account, { stat = "Average", label = "indexing rate" }],
          ["AWS/ES", "ClusterIndexWritesBlocked", "DomainName", local.domain_name, "ClientId", local.domain_account, { stat = "Maximum", label = "writes blocked" }],
        ]
      },
    ],
  )

  dashboard_name = "${var.name}-operations"
}

resource "aws_cloudwatch_dashboard" "operations" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = [
      for position, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (position % 3) * 8
        y      = floor(position / 3) * 6
        width  = 8
        height = 6
        properties = {
          title   = widget.title
          region  = var.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          metrics = widget.metrics
        }
      }
    ]
  })
}
