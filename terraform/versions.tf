terraform {
  required_version = ">= 1.9"

  # State: see backend.tf.example (S3 with native locking). Without a backend block, state stays local.

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}
