"""Checks docs/openapi.yaml for OpenAPIContractTests: python3 check_document.py SERVED.json openapi.yaml

The JSON serve answers GET /v1/openapi.json with must be the YAML (else `make openapi` was not
run); the document must pass openapi-spec-validator; each team-owned path's twin must say the
same; every example must fit its schema. Prints a summary line, or exits 1 naming the problem.
"""
import json
import sys

import referencing
import referencing.jsonschema
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

served = json.load(open(sys.argv[1]))
source = yaml.safe_load(open(sys.argv[2]))
if served != source:
    keys = sorted(k for k in set(served) | set(source) if served.get(k) != source.get(k))
    paths = sorted(p for p in set(served.get("paths", {})) | set(source.get("paths", {}))
                   if served.get("paths", {}).get(p) != source.get("paths", {}).get(p))
    sys.exit(f"GET /v1/openapi.json differs from docs/openapi.yaml (run `make openapi`): keys {keys}, paths {paths[:10]}")
validate(served)


# Each team-owned operation is documented twice (/v1/X and /v1/teams/{team}/X, its id with
# InTeam): the twins must say the same but for the team parameter.
def bare(item):
    item = json.loads(json.dumps(item).replace("InTeam", ""))
    team = {"$ref": "#/components/parameters/Team"}
    item["parameters"] = [p for p in item.get("parameters", []) if p != team]
    if not item["parameters"]:
        del item["parameters"]
    for operation in item.values():
        for response in (operation.get("responses", {}) if isinstance(operation, dict) else {}).values():
            for link in response.get("links", {}).values():
                link["parameters"].pop("team", None)
    return item


twins = 0
for path, item in source["paths"].items():
    base = path.replace("/v1/teams/{team}/", "/v1/", 1)
    ids = [op.get("operationId", "") for op in item.values() if isinstance(op, dict)]
    if base == path or base not in source["paths"] or not all(i.endswith("InTeam") for i in ids):
        continue
    twins += 1
    if bare(item) != source["paths"][base]:
        sys.exit(f"{path} does not say what {base} says (but for the team)")


# Every example fits its schema.
registry = referencing.Registry().with_resource(
    "urn:openapi", referencing.Resource.from_contents(source, default_specification=referencing.jsonschema.DRAFT202012))


def check(example, schema, where):
    validator = Draft202012Validator({"$ref": "urn:openapi#" + where} if schema is None else schema, registry=registry)
    errors = list(validator.iter_errors(example))
    if errors:
        sys.exit(f"the example at {where} does not fit its schema: {errors[0].message}")


checked = 0


def walk(node, where):
    global checked
    if isinstance(node, dict):
        if "example" in node:
            if "schema" in node:
                schema = node["schema"]
                if "$ref" in schema:
                    schema = {"$ref": "urn:openapi" + schema["$ref"]}
                else:
                    schema = {"$ref": "urn:openapi#" + where + "/schema"}
                check(node["example"], schema, where)
                checked += 1
            elif where.startswith("/components/schemas/") or "/properties/" in where:
                check(node["example"], None, where)
                checked += 1
        for key, value in node.items():
            walk(value, where + "/" + str(key).replace("~", "~0").replace("/", "~1"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            walk(value, f"{where}/{index}")


walk(source, "")
print("valid:", len(served["paths"]), "paths,", twins, "team twins,", checked, "examples fit")
