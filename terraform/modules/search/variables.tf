# Rules every module validates alike live once, in definitions/conventions.json: Terraform has no shared
# types or validation blocks, but since 1.9 a validation may read a local.
locals {
  conventions = jsondecode(file("${path.module}/../../definitions/conventions.json"))
}

variable "name" {
  description = "Domain or collection name: 3-28 characters, lower-case letters, digits and '-', starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.name))
    error_message = "name must be 3-28 characters of lower-case letters, digits or '-', starting with a letter."
  }
}

variable "engine" {
  description = "Where the read model lives. Valid values: domain (Amazon OpenSearch Service), serverless (OpenSearch Serverless collection: no instances to size, a higher floor price per OCU)."
  type        = string
  default     = "domain"
  nullable    = false

  validation {
    condition     = contains(["domain", "serverless"], var.engine)
    error_message = "engine must be domain or serverless."
  }
}

variable "profile" {
  description = "Sizing profile. Valid values: prod (3 AZs, dedicated masters, r6g data nodes), dev (one small node, no standby)."
  type        = string
  default     = "prod"
  nullable    = false

  validation {
    condition     = contains(["dev", "prod"], var.profile)
    error_message = "profile must be dev or prod."
  }
}

variable "engine_version" {
  description = "OpenSearch engine version of a domain, as OpenSearch_<major>.<minor>."
  type        = string
  default     = "OpenSearch_2.19"
  nullable    = false

  validation {
    condition     = can(regex("^OpenSearch_[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must look like OpenSearch_2.19 (Elasticsearch versions are not supported)."
  }
}

variable "cluster" {
  description = "Overrides of the profile's domain sizing; unset fields follow the profile."
  type = object({
    instance_type          = optional(string)
    instance_count         = optional(number)
    availability_zones     = optional(number)
    dedicated_master_type  = optional(string)
    dedicated_master_count = optional(number)
    volume_size_gb         = optional(number)
  })
  default = {}

  validation {
    condition     = var.cluster.instance_count == null || try(var.cluster.instance_count >= 1 && var.cluster.instance_count <= 80, false)
    error_message = "cluster.instance_count must be between 1 and 80."
  }

  validation {
    condition     = var.cluster.availability_zones == null || contains([1, 2, 3], coalesce(var.cluster.availability_zones, 0))
    error_message = "cluster.availability_zones must be 1, 2 or 3."
  }

  validation {
    condition     = var.cluster.dedicated_master_count == null || contains([0, 3, 5], coalesce(var.cluster.dedicated_master_count, -1))
    error_message = "cluster.dedicated_master_count must be 0, 3 or 5 (an odd quorum)."
  }

  validation {
    condition     = var.cluster.volume_size_gb == null || try(var.cluster.volume_size_gb >= 10 && var.cluster.volume_size_gb <= 16384, false)
    error_message = "cluster.volume_size_gb must be between 10 and 16384."
  }

  validation {
    condition     = var.cluster.instance_type == null || can(regex("\\.search$", coalesce(var.cluster.instance_type, "-")))
    error_message = "cluster.instance_type must be an OpenSearch Service instance type (ending in .search)."
  }
}

variable "master_user_arn" {
  description = "IAM role or user that is the fine-grained access control master (administrators; maps the other roles)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", var.master_user_arn))
    error_message = "master_user_arn must be an IAM role or user ARN."
  }
}

variable "writer_role_arns" {
  description = "Roles that write the read model (the projector): _bulk, the write aliases, the concrete indices."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.writer_role_arns : can(regex(local.conventions.iam_role_arn_pattern, arn))])
    error_message = "writer_role_arns must be IAM role ARNs."
  }
}

variable "purger_role_arns" {
  description = "Roles that purge old tombstones (the projector module's purge function): alias lookups and _delete_by_query only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.purger_role_arns : can(regex(local.conventions.iam_role_arn_pattern, arn))])
    error_message = "purger_role_arns must be IAM role ARNs."
  }
}

variable "reader_role_arns" {
  description = "Roles that only search the read aliases (the AppSync search data source's role)."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.reader_role_arns : can(regex(local.conventions.iam_role_arn_pattern, arn))])
    error_message = "reader_role_arns must be IAM role ARNs."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for encryption at rest and the log groups; null uses AWS-managed keys. Encryption is always on."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex(local.conventions.kms_key_arn_pattern, var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "log_retention_days" {
  description = "Days to keep the domain's application, audit and slow logs (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains(local.conventions.log_retention_days, var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts: ${join(", ", local.conventions.log_retention_days)}."
  }
}

variable "tags" {
  description = "Tags merged into every resource of this module."
  type        = map(string)
  default     = {}
}
