# Realistic computed values for the mocked AWS provider, shared by the root stack's test files. Every value
# that feeds another resource's validated argument (ARNs, endpoints, ids) looks like what AWS returns.
mock_data "aws_caller_identity" {
  defaults = { account_id = "111122223333" }
}

mock_data "aws_region" {
  defaults = { name = "eu-west-1" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws" }
}

# Every root test file plans the stack as "cqrs-stack" (override and mock values cannot read variables),
# and the api module checks that the table's ARN names the table.
mock_resource "aws_dynamodb_table" {
  defaults = {
    arn        = "arn:aws:dynamodb:eu-west-1:111122223333:table/cqrs-stack-table"
    stream_arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/cqrs-stack-table/stream/2026-01-01T00:00:00.000"
  }
}

mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::111122223333:role/cqrs-mock-role" }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:eu-west-1:111122223333:cqrs-mock-queue"
    url = "https://sqs.eu-west-1.amazonaws.com/111122223333/cqrs-mock-queue"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/cqrs/mock" }
}

mock_resource "aws_cloudwatch_event_rule" {
  defaults = { arn = "arn:aws:events:eu-west-1:111122223333:rule/cqrs-mock-purge" }
}

mock_resource "aws_lambda_function" {
  defaults = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:cqrs-mock" }
}

mock_resource "aws_opensearch_domain" {
  defaults = {
    arn      = "arn:aws:es:eu-west-1:111122223333:domain/cqrs-mock"
    endpoint = "search-cqrs-mock-abc.eu-west-1.es.amazonaws.com"
  }
}

mock_resource "aws_opensearchserverless_collection" {
  defaults = {
    arn                 = "arn:aws:aoss:eu-west-1:111122223333:collection/abc123"
    collection_endpoint = "https://abc123.eu-west-1.aoss.amazonaws.com"
  }
}

mock_resource "aws_appsync_graphql_api" {
  defaults = {
    id   = "abcdefghijklmnopqrstuvwxyz"
    arn  = "arn:aws:appsync:eu-west-1:111122223333:apis/abcdefghijklmnopqrstuvwxyz"
    uris = { GRAPHQL = "https://abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-1.amazonaws.com/graphql" }
  }
}

mock_resource "aws_appsync_api_key" {
  defaults = { key = "da2-mockmockmockmockmockmock" }
}

mock_resource "aws_cognito_user_pool" {
  defaults = {
    id  = "eu-west-1_AbCdEfGhI"
    arn = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbCdEfGhI"
  }
}

mock_resource "aws_cognito_user_pool_client" {
  defaults = { id = "1example23456789abcdefghij" }
}

mock_resource "aws_wafv2_web_acl" {
  defaults = { arn = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/cqrs-mock-api/0b1c2d3e" }
}
