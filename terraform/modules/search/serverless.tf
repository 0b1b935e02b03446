# OpenSearch Serverless: the collection plus its three policies (encryption, network, data access).
locals {
  collection_resource = "collection/${var.name}"
}

resource "aws_opensearchserverless_security_policy" "encryption" {
  count = local.create_collection ? 1 : 0
  name  = "${var.name}-enc"
  type  = "encryption"
  policy = jsonencode(merge(
    { Rules = [{ ResourceType = "collection", Resource = [local.collection_resource] }] },
    { AWSOwnedKey = var.kms_key_arn == null },
    # A conditional between two object shapes would turn AWSOwnedKey into the string "true": keep them apart.
    { for key, arn in { KmsARN = var.kms_key_arn } : key => arn if arn != null },
  ))
}

# Public endpoint, as for the domain: AppSync and the projector reach it over TLS with SigV4; the data access
# policy below decides who may do what.
resource "aws_opensearchserverless_security_policy" "network" {
  count = local.create_collection ? 1 : 0
  name  = "${var.name}-net"
  type  = "network"
  policy = jsonencode([{
    Rules           = [{ ResourceType = "collection", Resource = [local.collection_resource] }]
    AllowFromPublic = true
  }])
}

resource "aws_opensearchserverless_collection" "this" {
  count            = local.create_collection ? 1 : 0
  name             = var.name
  type             = "SEARCH"
  standby_replicas = var.profile == "prod" ? "ENABLED" : "DISABLED"
  tags             = local.tags

  depends_on = [aws_opensearchserverless_security_policy.encryption, aws_opensearchserverless_security_policy.network]
}

resource "aws_opensearchserverless_access_policy" "this" {
  count = local.create_collection ? 1 : 0
  name  = "${var.name}-data"
  type  = "data"
  policy = jsonencode(concat(
    length(var.writer_role_arns) == 0 ? [] : [{
      Description = "The projector writes the read model."
      Principal   = var.writer_role_arns
      Rules = [{
        ResourceType = "index"
        Resource     = [for name in concat(local.index_patterns, local.write_aliases) : "index/${var.name}/${name}"]
        Permission   = ["aoss:DescribeIndex", "aoss:ReadDocument", "aoss:WriteDocument", "aoss:UpdateIndex"]
      }]
    }],
    length(var.purger_role_arns) == 0 ? [] : [{
      Description = "The tombstone purge finds and deletes old tombstones."
      Principal   = var.purger_role_arns
      Rules = [{
        ResourceType = "index"
        Resource     = [for name in concat(local.index_patterns, local.write_aliases) : "index/${var.name}/${name}"]
        Permission   = ["aoss:DescribeIndex", "aoss:ReadDocument", "aoss:WriteDocument"]
      }]
    }],
    length(var.reader_role_arns) == 0 ? [] : [{
      Description = "The API only reads."
      Principal   = var.reader_role_arns
      Rules = [{
        ResourceType = "index"
        Resource     = [for name in concat(local.read_aliases, local.index_patterns) : "index/${var.name}/${name}"]
        Permission   = ["aoss:DescribeIndex", "aoss:ReadDocument"]
      }]
    }],
    [{
      Description = "The master creates indices and aliases."
      Principal   = [var.master_user_arn]
      Rules = [
        { ResourceType = "collection", Resource = [local.collection_resource], Permission = ["aoss:DescribeCollectionItems", "aoss:CreateCollectionItems", "aoss:UpdateCollectionItems"] },
        { ResourceType = "index", Resource = ["index/${var.name}/*"], Permission = ["aoss:CreateIndex", "aoss:DeleteIndex", "aoss:UpdateIndex", "aoss:DescribeIndex", "aoss:ReadDocument", "aoss:WriteDocument"] },
      ]
    }],
  ))
}
