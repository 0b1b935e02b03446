terraform {
  # 1.10: the S3 backend's native lock file (use_lockfile), which the stack's backend uses.
  required_version = ">= 1.10"

  # Bootstrap state: local on the first apply (the bucket does not exist yet), then moved into the bucket
  # it created: see README.md ("Moving the bootstrap's own state").

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}
