"""Reads user data (stdin, raw bytes: plain or gzip) the way cloud-init does and prints what it sees as
JSON: one entry per part with its type, name, merge header, decoded content and, for cloud-config parts,
the value PyYAML (cloud-init's YAML 1.1 parser) loads from it. Run with Debian's python3 (cloud-init's)."""
import json
import sys

import yaml
from cloudinit import helpers, user_data, util

message = user_data.UserDataProcessor(helpers.Paths({})).process(sys.stdin.buffer.read())
parts = []
for part in message.walk():
    if part.get_content_maintype() == "multipart":
        continue
    content = util.fully_decoded_payload(part)
    entry = {
        "contentType": part.get_content_type(),
        "filename": part.get_filename(),
        "mergeType": part.get("X-Merge-Type") or part.get("Merge-Type"),
        "content": content,
    }
    if entry["contentType"] == "text/cloud-config":
        entry["loaded"] = yaml.safe_load(content)
    parts.append(entry)
json.dump(parts, sys.stdout)  # ASCII escapes: survives mangled (surrogate) text
