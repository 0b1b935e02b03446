# ---------------------------------------------------------------------------------------------------------
# Stack
# ---------------------------------------------------------------------------------------------------------
variable "name" {
  description = "Prefix of every resource name, e.g. cqrs-prod (3-20 characters: lower-case letters, digits, '-')."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name must be 3-20 characters of lower-case letters, digits or '-', starting with a letter (it prefixes an OpenSearch domain name, which allows 28)."
  }
}

variable "environment" {
  description = "Environment label. Valid values: dev, prod."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the table, queues, logs and domain; null uses AWS-managed keys (encryption stays on)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days to keep every log group of the stack."
  type        = number
  default     = 365
}

# ---------------------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------------------
variable "deletion_protection_enabled" {
  description = "Protect the table (the source of truth) against deletion. On unless a throw-away stack turns it off."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------
variable "search" {
  description = <<-EOT
    The read model. engine: domain (serverless is refused, see its validation); profile: dev (one node) or prod (3 AZs, dedicated
    masters); master_user_arn: the IAM role administrators assume (fine-grained access control master);
    cluster: sizing overrides (see modules/search).
  EOT
  type = object({
    engine          = optional(string, "domain")
    profile         = optional(string, "prod")
    engine_version  = optional(string, "OpenSearch_2.19")
    master_user_arn = string
    cluster = optional(object({
      instance_type          = optional(string)
      instance_count         = optional(number)
      availability_zones     = optional(number)
      dedicated_master_type  = optional(string)
      dedicated_master_count = optional(number)
      volume_size_gb         = optional(number)
    }), {})
  })

  validation {
    condition     = contains(["domain", "serverless"], var.search.engine)
    error_message = "search.engine must be domain (serverless is recognised but refused: see the next rule)."
  }

  # Refused until AWS documents what the projector relies on. Its correctness rests on `_bulk` with
  # version_type=external (a replayed or out-of-order stream record loses to the newer version already
  # indexed); AWS's "Supported operations and plugins in Amazon OpenSearch Serverless" lists `_bulk` under
  # aoss:WriteDocument but says nothing of external versions, and lists neither `_refresh` nor
  # `_delete_by_query` (the tombstone purge). modules/search keeps the collection variant for that day.
  validation {
    condition     = var.search.engine != "serverless"
    error_message = "search.engine = \"serverless\" is refused: the projector's correctness rests on _bulk with version_type=external, and AWS's list of supported OpenSearch Serverless operations does not establish that a collection accepts external versions, _refresh or _delete_by_query (the tombstone purge); alias reads would also need aoss:DescribeCollectionItems. Use engine = \"domain\" (terraform/README.md, \"OpenSearch Serverless: refused, and why\")."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Projector
# ---------------------------------------------------------------------------------------------------------
variable "projector_package_file" {
  description = "Lambda zip from `python scripts/build_projector.py` (path relative to this directory or absolute)."
  type        = string
  default     = "../build/projector.zip"
}

variable "projector" {
  description = <<-EOT
    Projector tuning: memory, reserved concurrency, log level, stream mapping overrides (see
    modules/projector), and the tombstone purge: tombstone_retention_hours (> 24, the stream's retention),
    tombstone_purge_schedule (EventBridge rate() or cron()), tombstone_purge_enabled (false pauses it).
  EOT
  type = object({
    memory_size          = optional(number, 512)
    reserved_concurrency = optional(number)
    log_level            = optional(string, "INFO")
    stream_mapping = optional(object({
      batch_size                         = optional(number)
      maximum_batching_window_in_seconds = optional(number)
      maximum_retry_attempts             = optional(number)
      maximum_record_age_in_seconds      = optional(number)
      parallelization_factor             = optional(number)
    }), {})
    tombstone_retention_hours = optional(number, 48)
    tombstone_purge_schedule  = optional(string, "rate(6 hours)")
    tombstone_purge_enabled   = optional(bool, true)
  })
  default = {}

  # Checked here too (the module checks again) so a wrong value is reported against this stack's input.
  validation {
    condition     = var.projector.tombstone_retention_hours > 24
    error_message = "projector.tombstone_retention_hours must exceed 24 (the stream's retention), or a late replay could resurrect a purged item."
  }
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified by the projector's alarms."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------------------
variable "api" {
  description = "API options: api_key_enabled (development only), introspection_enabled, waf_enabled, waf_rate_limit (per IP per 5 min)."
  type = object({
    api_key_enabled       = optional(bool, false)
    introspection_enabled = optional(bool, false)
    waf_enabled           = optional(bool, true)
    waf_rate_limit        = optional(number, 2000)
  })
  default = {}
}
