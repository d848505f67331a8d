"""The local cloud's speed-only patches answer exactly as the moto code they replace (no deploy needed)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import responses
from moto import mock_aws
from moto.stepfunctions.parser.asl.antlt4utils import antlr4utils

from infra.localcloud.patches import http_match_cache, sfn_parse_cache

LITERALS = ['"plain"', '"$.detail.work_order_id"', '"tab\\\\there"', '"line\\\\nbreak"', '"caf\\\\u00e9"',
            '"quote \\\\" inside"', '"bad escape \\\\x"', '"trailing backslash \\\\"', 'unquoted', '""', '"é"',
            '"States.Format(\'{} {}\', $.a, $.b)"']


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text

    def getText(self) -> str:
        return self.text


@pytest.mark.parametrize("text", LITERALS)
def test_string_literals_decode_as_moto_decodes_them(text):
    assert sfn_parse_cache.from_string_literal(_Text(text)) == antlr4utils.from_string_literal(_Text(text))
    assert sfn_parse_cache.from_string_literal(_Text(text)) == antlr4utils.from_string_literal(_Text(text))  # kept


def test_the_preprocessor_uses_the_kept_decoding():
    from moto.stepfunctions.parser.asl.parse import preprocessor

    sfn_parse_cache.apply()
    assert preprocessor.from_string_literal is sfn_parse_cache.from_string_literal


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"echo {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


URLS = ["http://127.0.0.1:8000/requests?x=1#f", "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "https://b\u00fccher.example/p\u00e4th?q=\u00e9", "http://[::1]:80/a;b?c", "https://s3.amazonaws.com/bucket/key"]


@pytest.mark.parametrize("url", URLS)
def test_url_parsing_is_kept_with_the_same_answers(url):
    original_parse = responses._get_url_and_path.__wrapped__ if hasattr(responses._get_url_and_path, "__wrapped__") \
        else responses._get_url_and_path
    http_match_cache.apply()
    assert responses._get_url_and_path(url) == original_parse(url)
    assert responses._get_url_and_path(url) == original_parse(url)
    assert responses._has_unicode(url) == any(ord(c) > 128 for c in url)
    long_body = "x" * (http_match_cache.MAX_KEPT_CHARS + 1) + "\u00e9"
    assert responses._has_unicode(long_body) and responses._get_url_and_path.cache_info().currsize >= 1


def test_under_mock_aws_aws_urls_still_reach_moto_and_others_pass_through(echo_server):
    http_match_cache.apply()
    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="kept")
        for _ in range(2):  # the second time from the kept parses
            listed = requests.get("https://kept.s3.amazonaws.com/?list-type=2", timeout=5)
            assert listed.status_code == 200 and "<Name>kept</Name>" in listed.text
            passed = requests.get(f"{echo_server}/work-orders/wo-1?x=1", timeout=5)
            assert passed.status_code == 200 and passed.text == "echo /work-orders/wo-1?x=1"


def _nodes(tree):
    from antlr4 import ParserRuleContext

    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ParserRuleContext):
            pending.extend(reversed(node.children or ()))


def test_a_cached_tree_keeps_every_nodes_text_as_a_fresh_parse_computes_it():
    import re
    from pathlib import Path

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    sfn_parse_cache.apply()
    definition = re.sub(r"\$\{\w+\}", "arn:aws:lambda:us-east-1:123456789012:function:f",
                        (Path(__file__).parents[2] / "state_machines" / "work_order.asl.json").read_text())
    kept = sfn_parse_cache.parse_tree(definition)
    _, fresh = AmazonStateLanguageParser.parse(definition)  # not cached: computes its texts as moto does
    pairs = list(zip(_nodes(kept), _nodes(fresh), strict=True))
    assert len(pairs) > 1000
    assert all(getattr(a, sfn_parse_cache.KEPT_TEXT) == b.getText() for a, b in pairs)
    assert not any(hasattr(b, sfn_parse_cache.KEPT_TEXT) for _, b in pairs)
    assert sfn_parse_cache.parse_tree(definition) is kept


def test_moto_lists_a_response_class_methods_as_before_once_per_class():
    from moto.core import responses as moto_responses
    from moto.core import utils
    from moto.dynamodb.responses import DynamoHandler

    from infra.localcloud.patches import moto_dispatch_cache

    moto_dispatch_cache.apply()
    first = moto_responses.method_names_from_class(DynamoHandler)
    assert first == utils.method_names_from_class(DynamoHandler) and "put_item" in first
    first.append("not_a_method")  # a caller changing its list does not change the next answer
    assert "not_a_method" not in moto_responses.method_names_from_class(DynamoHandler)
