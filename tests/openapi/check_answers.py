#!/usr/bin/python3
"""Checks live admin API answers against docs/openapi.yaml.

Usage: check_answers.py SPEC EXCHANGES

EXCHANGES holds one JSON object per line, as the end-to-end test recorded them:
{"method": "GET", "path": "/endpoints/list", "status": 200, "contentType": "...",
 "headers": {"allow": "..."}, "body": "..."}

Every exchange must be documented (path, method and status), carry the documented content
type and required headers, and its JSON body must validate against the documented schema.
Then every documented status of every operation must have been seen at least once. Prints
one line per problem and exits 1 if there is any.
"""
import json
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def main(spec_path, exchanges_path):
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    resolver = jsonschema.RefResolver.from_schema(spec)
    problems = []
    seen = set()

    def response_of(path, method, status):
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            return None, "%s %s is not documented" % (method.upper(), path)
        responses = operation["responses"]
        response = responses.get(str(status))
        if response is None:
            return None, "%s %s answered %d, which is not documented" % (
                method.upper(), path, status)
        if "$ref" in response:
            response = resolver.resolve(response["$ref"])[1]
        return response, None

    with open(exchanges_path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            x = json.loads(line)
            method = x["method"].lower()
            where = "exchange %d (%s %s -> %d)" % (number, x["method"], x["path"], x["status"])
            response, problem = response_of(x["path"], method, x["status"])
            if problem:
                problems.append("%s: %s" % (where, problem))
                continue
            seen.add((x["path"], method, str(x["status"])))
            for name, header in response.get("headers", {}).items():
                if header.get("required") and name.lower() not in x["headers"]:
                    problems.append("%s: required header %s is missing" % (where, name))
            content = response.get("content", {})
            media = (x.get("contentType") or "").split(";")[0].strip()
            if content and media not in content:
                problems.append("%s: content type %r, documented %s" % (
                    where, media, sorted(content)))
                continue
            if media != "application/json":
                continue
            try:
                body = json.loads(x["body"])
            except ValueError as e:
                problems.append("%s: body is not JSON (%s): %r" % (where, e, x["body"][:200]))
                continue
            schema = content[media].get("schema", {})
            validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
            for error in validator.iter_errors(body):
                problems.append("%s: %s at %s" % (
                    where, error.message, "/".join(str(p) for p in error.absolute_path)))

    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            for status in item[method]["responses"]:
                if status == "default":
                    continue
                if (path, method, status) not in seen:
                    problems.append("never seen: %s %s -> %s" % (method.upper(), path, status))

    for p in problems:
        print(p)
    print("%d exchanges checked, %d documented answers seen, %d problems" % (
        number if "number" in locals() else 0, len(seen), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
