# What moto server can host of the stack: the table with its stream, IAM, the queues, the projector Lambda
# and its event source mapping, the tombstone purge Lambda with its EventBridge schedule, the review cascade
# Lambda with its filtered event source mapping, and the AppSync
# API itself with its auth, logging, user pool and WAF (moto cannot create AppSync data sources or
# resolvers). The real hashicorp/aws provider talks to moto.
terraform {
  required_version = ">= 1.9"
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

variable "endpoint" {
  description = "moto server URL (http://127.0.0.1:<port>)."
  type        = string
}

variable "name" {
  description = "Unique prefix, so runs never collide on a shared moto server."
  type        = string
}

variable "package_file" {
  description = "Path of a Lambda zip."
  type        = string
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # moto answers "not implemented" for a few calls; never retry those for minutes.
  max_retries = 1

  endpoints {
    appsync        = var.endpoint
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    cognitoidp     = var.endpoint
    dynamodb       = var.endpoint
    events         = var.endpoint
    iam            = var.endpoint
    lambda         = var.endpoint
    sqs            = var.endpoint
    sts            = var.endpoint
    wafv2          = var.endpoint
  }
}

module "table" {
  source = "../../../terraform/modules/table"

  # Deletion protection stays at its default (on): the test checks moto enforces it.
  name = "${var.name}-table"
}

module "projector" {
  source = "../../../terraform/modules/projector"

  name             = "${var.name}-projector"
  package_file     = var.package_file
  table_stream_arn = module.table.table_stream_arn
  search = {
    endpoint     = "https://search-${var.name}.us-east-1.es.amazonaws.com"
    auth         = "sigv4"
    resource_arn = "arn:aws:es:us-east-1:123456789012:domain/${var.name}"
  }
  stream_mapping = { batch_size = 250 }
}

module "api" {
  source = "../../../terraform/modules/api"

  name            = "${var.name}-api"
  resolvers_dir   = "${path.module}/no_resolvers"
  api_key_enabled = true
  table = {
    name       = module.table.table_name
    arn        = module.table.table_arn
    index_arns = values(module.table.table_index_arns)
  }
  search = {
    endpoint     = "https://search-${var.name}.us-east-1.es.amazonaws.com"
    resource_arn = "arn:aws:es:us-east-1:123456789012:domain/${var.name}"
    engine       = "domain"
  }
}

output "api_id" {
  value = module.api.api_id
}

output "api_arn" {
  value = module.api.api_arn
}

output "user_pool_id" {
  value = module.api.user_pool_id
}

output "user_pool_client_id" {
  value = module.api.user_pool_client_id
}

output "table_name" {
  value = module.table.table_name
}

output "function_name" {
  value = module.projector.function_name
}

output "role_name" {
  value = split("/", module.projector.role_arn)[1]
}

output "purge_function_name" {
  value = module.projector.purge_function_name
}

output "purge_role_name" {
  value = split("/", module.projector.purge_role_arn)[1]
}

output "purge_rule_name" {
  value = module.projector.purge_schedule.rule_name
}

output "dead_letter_queue_url" {
  value = module.projector.dead_letter_queue_url
}

output "on_failure_queue_url" {
  value = module.projector.on_failure_queue_url
}

output "cascade_function_name" {
  value = module.projector.cascade_function_name
}

output "cascade_role_name" {
  value = split("/", module.projector.cascade_role_arn)[1]
}

output "cascade_on_failure_queue_url" {
  value = module.projector.cascade_on_failure_queue_url
}
