# Rules every module validates alike live once, in definitions/conventions.json: Terraform has no shared
# types or validation blocks, but since 1.9 a validation may read a local.
locals {
  conventions = jsondecode(file("${path.module}/../../definitions/conventions.json"))
}

# ---------------------------------------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------------------------------------
variable "name" {
  description = "Function name; also the prefix of the queues, role and alarms (1-56 characters)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 characters of letters, digits, '_' or '-' (room is left for suffixes)."
  }
}

variable "package_file" {
  description = "Path of the Lambda zip built by scripts/build_projector.py (Terraform never builds code)."
  type        = string

  validation {
    condition     = endswith(var.package_file, ".zip")
    error_message = "package_file must be the path of a .zip file."
  }
}

variable "handler" {
  description = "Entry point inside the zip, as module.function."
  type        = string
  default     = "projector.handler.lambda_handler"
}

# The zip carries native code (orjson) built for one Python and one instruction set: both come from
# definitions/projector_runtime.json, which scripts/build_projector.py reads too. Override them only
# for a zip built for the same values (build_projector.py --verify checks a zip against that file).
variable "runtime" {
  description = "Python runtime; null takes definitions/projector_runtime.json (python3.12). Valid values: python3.12, python3.13."
  type        = string
  default     = null

  validation {
    condition     = var.runtime == null || contains(["python3.12", "python3.13"], coalesce(var.runtime, "-"))
    error_message = "runtime must be python3.12 or python3.13 (or null for definitions/projector_runtime.json)."
  }
}

variable "architecture" {
  description = "Instruction set; null takes definitions/projector_runtime.json (arm64). Valid values: arm64 (cheaper per GB-second), x86_64."
  type        = string
  default     = null

  validation {
    condition     = var.architecture == null || contains(["arm64", "x86_64"], coalesce(var.architecture, "-"))
    error_message = "architecture must be arm64 or x86_64 (or null for definitions/projector_runtime.json)."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240); CPU grows with it."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds (1-900). A batch of 500 records takes well under a second of CPU; the rest is OpenSearch latency."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions; null leaves the function in the account's unreserved pool. At most shards x parallelization factor run at once anyway."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1, false)
    error_message = "reserved_concurrency must be at least 1, or null."
  }
}

variable "log_retention_days" {
  description = "Days to keep the function's logs (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains(local.conventions.log_retention_days, var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts: ${join(", ", local.conventions.log_retention_days)}."
  }
}

variable "log_level" {
  description = "Powertools log level. Valid values: DEBUG, INFO, WARNING, ERROR."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the queues, the log group and the function's environment; null uses AWS-managed encryption."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex(local.conventions.kms_key_arn_pattern, var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Source and target
# ---------------------------------------------------------------------------------------------------------
variable "table_stream_arn" {
  description = "ARN of the DynamoDB stream to project (the table module's table_stream_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", var.table_stream_arn))
    error_message = "table_stream_arn must be a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>)."
  }
}

variable "search" {
  description = <<-EOT
    The OpenSearch target. endpoint: https URL; auth: sigv4 (OpenSearch Service domain) or sigv4-aoss
    (Serverless collection); resource_arn: the domain or collection ARN the IAM policy is scoped to.
  EOT
  type = object({
    endpoint     = string
    auth         = string
    resource_arn = string
  })

  validation {
    condition     = startswith(var.search.endpoint, "https://")
    error_message = "search.endpoint must be an https:// URL."
  }

  validation {
    condition     = contains(["sigv4", "sigv4-aoss"], var.search.auth)
    error_message = "search.auth must be sigv4 or sigv4-aoss."
  }

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:(es|aoss):[a-z0-9-]+:[0-9]{12}:(domain|collection)/.+$", var.search.resource_arn))
    error_message = "search.resource_arn must be an OpenSearch domain or Serverless collection ARN."
  }
}

variable "settings" {
  description = "Projector tuning (docs/design.md §5): bulk caps, tombstone retention (hours, > 24), whether to log item contents."
  type = object({
    bulk_max_bytes            = optional(number, 5242880)
    bulk_max_actions          = optional(number, 1000)
    tombstone_retention_hours = optional(number, 48)
    log_item_contents         = optional(bool, false)
  })
  default = {}

  validation {
    condition     = var.settings.tombstone_retention_hours > 24
    error_message = "settings.tombstone_retention_hours must exceed 24 (the stream's retention), or a late replay could resurrect a deleted item."
  }

  validation {
    condition     = var.settings.bulk_max_bytes >= 1024 && var.settings.bulk_max_bytes <= 10485760
    error_message = "settings.bulk_max_bytes must be between 1 KiB and 10 MiB (the smallest domain's request limit)."
  }

  validation {
    condition     = var.settings.bulk_max_actions >= 1 && var.settings.bulk_max_actions <= 10000
    error_message = "settings.bulk_max_actions must be between 1 and 10000."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Tombstone purge (purge.tf)
# ---------------------------------------------------------------------------------------------------------
variable "tombstone_purge_schedule" {
  description = "EventBridge schedule of the tombstone purge: rate(N hours|minutes|days) or cron(...). Tombstones live at least settings.tombstone_retention_hours; the schedule adds at most its interval."
  type        = string
  default     = "rate(6 hours)"
  nullable    = false

  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\\)|cron\\([^)]+\\))$", var.tombstone_purge_schedule))
    error_message = "tombstone_purge_schedule must be an EventBridge schedule expression: rate(1 hour), rate(6 hours), cron(0 3 * * ? *), ..."
  }
}

variable "tombstone_purge_enabled" {
  description = "Whether the purge schedule runs. false disables the rule only (during a reindex, an incident); the function stays, to be invoked by hand."
  type        = bool
  default     = true
  nullable    = false
}

variable "tombstone_purge_timeout" {
  description = "Timeout of the purge function in seconds (10-900); one _delete_by_query may run up to this, less 5 s."
  type        = number
  default     = 300

  validation {
    condition     = var.tombstone_purge_timeout >= 10 && var.tombstone_purge_timeout <= 900
    error_message = "tombstone_purge_timeout must be between 10 and 900 seconds."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Review cascade (cascade.tf; its filter and mapping settings: definitions/review_cascade.json)
# ---------------------------------------------------------------------------------------------------------
variable "review_cascade_timeout" {
  description = "Timeout of the review cascade in seconds (30-900). It stops 10 s before it and reports the record, whose retry carries on where it stopped; a listing with thousands of reviews needs a few runs at 30 s."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.review_cascade_timeout >= 30 && var.review_cascade_timeout <= 900
    error_message = "review_cascade_timeout must be between 30 and 900 seconds (the handler keeps a 10 s margin)."
  }
}

variable "review_cascade_enabled" {
  description = "Whether the review cascade's event source mapping runs. false pauses it (the function stays); records wait in the stream, up to the mapping's record age, then go to its on-failure queue."
  type        = bool
  default     = true
  nullable    = false
}

# ---------------------------------------------------------------------------------------------------------
# Projection signal (projector/signal.py; AppSync's onListingProjected)
# ---------------------------------------------------------------------------------------------------------
variable "projection_signal" {
  description = "Where the projector publishes its projection signal: graphql_url (the API's GraphQL URL), field_arn (the api module's projection_signal_field_arn: the role gets appsync:GraphQL on it alone), budget_ms (wall time per invocation for publishing, 50-200). null: no signal."
  type = object({
    graphql_url = string
    field_arn   = string
    budget_ms   = optional(number, 200)
  })
  default = null

  validation {
    condition     = var.projection_signal == null || can(regex("^arn:[^:]+:appsync:[^:]+:[0-9]{12}:apis/[^/]+/types/Mutation/fields/publishListingProjected$", var.projection_signal.field_arn))
    error_message = "projection_signal.field_arn must be the ARN of Mutation.publishListingProjected (the api module's projection_signal_field_arn)."
  }

  validation {
    condition     = var.projection_signal == null || (try(var.projection_signal.budget_ms, 0) >= 50 && try(var.projection_signal.budget_ms, 0) <= 200)
    error_message = "projection_signal.budget_ms must be between 50 and 200."
  }

  validation {
    condition     = var.projection_signal == null || startswith(try(var.projection_signal.graphql_url, ""), "https://")
    error_message = "projection_signal.graphql_url must be the API's https GraphQL URL."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Event source mapping (defaults: definitions/stream_mapping.json, shared with the local poller)
# ---------------------------------------------------------------------------------------------------------
variable "stream_mapping" {
  description = "Overrides of the event source mapping settings; unset fields come from definitions/stream_mapping.json."
  type = object({
    batch_size                         = optional(number)
    maximum_batching_window_in_seconds = optional(number)
    maximum_retry_attempts             = optional(number)
    maximum_record_age_in_seconds      = optional(number)
    bisect_batch_on_function_error     = optional(bool)
    parallelization_factor             = optional(number)
    starting_position                  = optional(string)
  })
  default = {}

  validation {
    condition     = var.stream_mapping.batch_size == null || try(var.stream_mapping.batch_size >= 1 && var.stream_mapping.batch_size <= 10000, false)
    error_message = "stream_mapping.batch_size must be between 1 and 10000."
  }

  validation {
    condition     = var.stream_mapping.maximum_batching_window_in_seconds == null || try(var.stream_mapping.maximum_batching_window_in_seconds >= 0 && var.stream_mapping.maximum_batching_window_in_seconds <= 300, false)
    error_message = "stream_mapping.maximum_batching_window_in_seconds must be between 0 and 300."
  }

  # -1 (infinite) is AWS's default: one poison batch would block its shard for the stream's whole 24 h.
  validation {
    condition     = var.stream_mapping.maximum_retry_attempts == null || try(var.stream_mapping.maximum_retry_attempts >= 0 && var.stream_mapping.maximum_retry_attempts <= 10000, false)
    error_message = "stream_mapping.maximum_retry_attempts must be bounded: 0-10000 (not -1)."
  }

  validation {
    condition     = var.stream_mapping.maximum_record_age_in_seconds == null || try(var.stream_mapping.maximum_record_age_in_seconds >= 60 && var.stream_mapping.maximum_record_age_in_seconds <= 604800, false)
    error_message = "stream_mapping.maximum_record_age_in_seconds must be bounded: 60-604800 (not -1)."
  }

  validation {
    condition     = var.stream_mapping.parallelization_factor == null || try(var.stream_mapping.parallelization_factor >= 1 && var.stream_mapping.parallelization_factor <= 10, false)
    error_message = "stream_mapping.parallelization_factor must be between 1 and 10."
  }

  validation {
    condition     = var.stream_mapping.starting_position == null || contains(["TRIM_HORIZON", "LATEST"], coalesce(var.stream_mapping.starting_position, "-"))
    error_message = "stream_mapping.starting_position must be TRIM_HORIZON or LATEST."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------------------
variable "alarms" {
  description = "CloudWatch alarms: actions (SNS topic ARNs) and the iterator-age threshold in seconds."
  type = object({
    enabled                   = optional(bool, true)
    actions                   = optional(list(string), [])
    iterator_age_threshold_s  = optional(number, 300)
    error_threshold_per_5_min = optional(number, 1)
  })
  default = {}

  validation {
    condition     = alltrue([for arn in var.alarms.actions : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", arn))])
    error_message = "alarms.actions must be SNS topic ARNs."
  }

  validation {
    condition     = var.alarms.iterator_age_threshold_s >= 1
    error_message = "alarms.iterator_age_threshold_s must be at least 1 second."
  }
}

variable "tags" {
  description = "Tags merged into every resource of this module."
  type        = map(string)
  default     = {}
}
