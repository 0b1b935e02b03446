"""The page's Cognito sign-in (a deployed stack's config), against moto's Cognito user pools."""

from __future__ import annotations

import json
import secrets

import boto3
from web_support import PageServer, run_browser_test

from devstack.servers import ChildServer, free_port


def test_cognito_sign_in(page_server: PageServer, moto_server: ChildServer) -> None:
    idp = boto3.client("cognito-idp", endpoint_url=moto_server.url, region_name="us-east-1")
    pool = idp.create_user_pool(PoolName=f"web-{secrets.token_hex(4)}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]["ClientId"]
    password = f"Pw-{secrets.token_hex(8)}"
    idp.admin_create_user(UserPoolId=pool, Username="carol", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="carol", Password=password, Permanent=True)
    config = {
        # Only AWS AppSync accepts Cognito tokens: a closed port, the test reads the request it gets.
        "graphql_url": f"http://127.0.0.1:{free_port()}/graphql",
        "region": "us-east-1",
        "auth": {"api_key": None, "user_pool_id": pool, "user_pool_client_id": client, "iam": True},
    }
    env = {
        "PAGE_URL": page_server.url,
        "MOTO_URL": moto_server.url,
        "PAGE_CONFIG": json.dumps(config),
        "COGNITO_PASSWORD": password,
    }
    counts = run_browser_test("cognito", env)
    assert counts["pass"] == 3
