#!/usr/bin/env python3
"""Writes Sources/HookRelayServer/OpenAPIDocument.swift: docs/openapi.yaml as compact JSON in a
Swift string, which serve answers GET /v1/openapi.json with. Run by `make openapi` after every
change of the YAML; OpenAPIContractTests fails while the two differ. Needs PyYAML."""
import json
import pathlib
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
document = yaml.safe_load((root / "docs" / "openapi.yaml").read_text())
text = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
# A raw string delimited by ## holds the JSON byte for byte unless these appear in it.
if '"##' in text or "\\##" in text:
    sys.exit("docs/openapi.py: the JSON holds a sequence that would end the Swift raw string")
width = 1000
lines = [text[i:i + width] for i in range(0, len(text), width)]
body = "\\##\n".join(lines)
swift = f'''// Generated from docs/openapi.yaml by `make openapi` (docs/openapi.py): do not edit.
// OpenAPIContractTests fails when it and the YAML differ.

/// The API's OpenAPI document, served at `GET /v1/openapi.json`.
enum OpenAPIDocument {{
    /// docs/openapi.yaml as compact JSON.
    static let json = ##"""
{body}
"""##
}}
'''
(root / "Sources" / "HookRelayServer" / "OpenAPIDocument.swift").write_text(swift)
