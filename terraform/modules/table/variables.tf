# Rules every module validates alike live once, in definitions/conventions.json: Terraform has no shared
# types or validation blocks, but since 1.9 a validation may read a local.
locals {
  conventions = jsondecode(file("${path.module}/../../definitions/conventions.json"))
}

variable "name" {
  description = "Table name (3-255 characters: letters, digits, '_', '-', '.')."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "deletion_protection_enabled" {
  description = "Refuse to delete the table (the event store). Turn off only for throw-away stacks."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_enabled" {
  description = "Continuous backups with point-in-time restore for the last 35 days."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for server-side encryption; null uses the AWS-managed key (aws/dynamodb). Encryption is always on."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex(local.conventions.kms_key_arn_pattern, var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tags" {
  description = "Tags merged into every resource of this module."
  type        = map(string)
  default     = {}
}
