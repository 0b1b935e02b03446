# Data sources, functions and resolvers, exactly as resolvers/manifest.json lists them.
resource "aws_appsync_datasource" "this" {
  for_each = local.manifest.data_sources
  api_id   = aws_appsync_graphql_api.this.id
  name     = each.key
  # OpenSearch Serverless has no native data source: it is an HTTP data source signed for aoss.
  type             = each.value.type == "AMAZON_OPENSEARCH_SERVICE" && var.search.engine == "serverless" ? "HTTP" : each.value.type
  service_role_arn = each.value.type == "NONE" ? null : aws_iam_role.data_source[each.key].arn

  dynamic "dynamodb_config" {
    for_each = each.value.type == "AMAZON_DYNAMODB" ? [var.table.name] : []
    content {
      table_name = dynamodb_config.value
      region     = data.aws_region.current.name
    }
  }

  dynamic "opensearchservice_config" {
    for_each = each.value.type == "AMAZON_OPENSEARCH_SERVICE" && var.search.engine == "domain" ? [var.search.endpoint] : []
    content {
      endpoint = opensearchservice_config.value
      region   = data.aws_region.current.name
    }
  }

  dynamic "http_config" {
    for_each = each.value.type == "AMAZON_OPENSEARCH_SERVICE" && var.search.engine == "serverless" ? [var.search.endpoint] : []
    content {
      endpoint = http_config.value
      authorization_config {
        authorization_type = "AWS_IAM"
        aws_iam_config {
          signing_region       = data.aws_region.current.name
          signing_service_name = "aoss"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(["AMAZON_DYNAMODB", "AMAZON_OPENSEARCH_SERVICE", "NONE"], each.value.type)
      error_message = "resolvers/manifest.json: data source '${each.key}' has type ${each.value.type}; the api module supports AMAZON_DYNAMODB, AMAZON_OPENSEARCH_SERVICE and NONE."
    }
  }

  depends_on = [aws_iam_role_policy.data_source]
}

resource "aws_appsync_function" "this" {
  for_each    = local.manifest.functions
  api_id      = aws_appsync_graphql_api.this.id
  name        = each.key
  data_source = aws_appsync_datasource.this[each.value.data_source].name
  code        = local.code[each.value.file]

  runtime {
    name            = local.runtime.name
    runtime_version = local.runtime.version
  }

  lifecycle {
    precondition {
      condition     = !strcontains(local.code[each.value.file], "ctx.env.")
      error_message = "${each.value.file} reads an environment variable the api module does not provide (it provides ${join(", ", keys(local.environment_variables))})."
    }
  }
}

resource "aws_appsync_resolver" "this" {
  for_each    = { for resolver in local.manifest.resolvers : "${resolver.type}.${resolver.field}" => resolver }
  api_id      = aws_appsync_graphql_api.this.id
  type        = each.value.type
  field       = each.value.field
  kind        = each.value.kind
  code        = local.code[each.value.file]
  data_source = each.value.kind == "UNIT" ? aws_appsync_datasource.this[each.value.data_source].name : null

  runtime {
    name            = local.runtime.name
    runtime_version = local.runtime.version
  }

  lifecycle {
    precondition {
      condition     = !strcontains(local.code[each.value.file], "ctx.env.")
      error_message = "${each.value.file} reads an environment variable the api module does not provide (it provides ${join(", ", keys(local.environment_variables))})."
    }
  }

  dynamic "pipeline_config" {
    for_each = each.value.kind == "PIPELINE" ? [each.value.functions] : []
    content {
      functions = [for name in pipeline_config.value : aws_appsync_function.this[name].function_id]
    }
  }
}
