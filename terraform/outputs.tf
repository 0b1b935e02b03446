# Named as docs/design.md §6: scripts/seed.py, the ops scripts and the web page read these
# (`terraform output -json`) exactly as they read the local stack's .dev/stack.json.
output "graphql_url" {
  description = "AppSync GraphQL endpoint."
  value       = module.api.graphql_url
}

output "region" {
  description = "AWS region of the stack."
  value       = var.region
}

output "auth" {
  description = "How clients authenticate: the API key (null unless enabled), the Cognito user pool and app client, and whether IAM is accepted."
  value = {
    api_key             = module.api.api_key
    user_pool_id        = module.api.user_pool_id
    user_pool_client_id = module.api.user_pool_client_id
    iam                 = contains(module.api.authentication_types, "AWS_IAM")
  }
  sensitive = true
}

output "table_name" {
  description = "DynamoDB table."
  value       = module.table.table_name
}

output "search_endpoint" {
  description = "OpenSearch endpoint (https://)."
  value       = module.search.endpoint
}

output "dead_letter_queue_url" {
  description = "Queue of the projector's poison records."
  value       = module.projector.dead_letter_queue_url
}

output "on_failure_queue_url" {
  description = "On-failure destination of the stream mapping (batch metadata)."
  value       = module.projector.on_failure_queue_url
}

# Beyond §6: what operators need to finish the setup (fine-grained access control role mapping).
output "search_auth" {
  description = "How to sign search requests: sigv4 (service es) or sigv4-aoss."
  value       = module.search.auth
}

output "projector_role_arn" {
  description = "Map this role to a writer role in OpenSearch fine-grained access control (see README)."
  value       = module.projector.role_arn
}

output "projector_purge_role_arn" {
  description = "The tombstone purge's role: map it to a role allowed to delete by query in fine-grained access control (see README)."
  value       = module.projector.purge_role_arn
}

output "tombstone_purge" {
  description = "The tombstone purge: function name and its EventBridge schedule (expression, state)."
  value = {
    function_name       = module.projector.purge_function_name
    schedule_expression = module.projector.purge_schedule.schedule_expression
    state               = module.projector.purge_schedule.state
  }
}

output "review_cascade" {
  description = "The review cascade (deletes a deleted listing's remaining reviews): function name, role, and the on-failure queue of batches it gave up on."
  value = {
    function_name        = module.projector.cascade_function_name
    role_arn             = module.projector.cascade_role_arn
    on_failure_queue_url = module.projector.cascade_on_failure_queue_url
  }
}

output "api_search_role_arn" {
  description = "Map this role to a read-only role in OpenSearch fine-grained access control (see README)."
  value       = module.api.search_role_arn
}

output "dashboard_url" {
  description = "The stack's CloudWatch operations dashboard (projection lag, outcomes, queues, errors, API, search health)."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards:name=${aws_cloudwatch_dashboard.operations.dashboard_name}"
}
