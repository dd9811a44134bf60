"""``modeldesk models register|list|show|alias|unalias|policy|archive|restore|lineage|export|
import|card``: the model registry headless. A promotion refused by the model's policy exits
with code 3 and says why."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import add_common
from app.core.errors import InvalidInput


def register(commands: Any) -> None:
    models = commands.add_parser("models", help="registered models: versions, aliases, files")
    sub = models.add_subparsers(dest="action", required=True, parser_class=type(models))

    p = sub.add_parser("register", help="register a finished run as the next version of a model")
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p.add_argument("--name", required=True, metavar="NAME")
    p.add_argument("--description", default="", metavar="TEXT")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    add_common(p)
    p.set_defaults(handler=register_)

    p = sub.add_parser("list", help="registered models (or one model's versions)")
    p.add_argument("name", nargs="?", metavar="NAME", help="list this model's versions")
    p.add_argument("--search", default="", metavar="TEXT")
    add_common(p)
    p.set_defaults(handler=list_, reads_only=lambda a: not a.name)

    p = sub.add_parser("show", help="one version: signature, metrics, aliases, lineage")
    p.add_argument("ref", metavar="NAME[@V|@ALIAS]")
    add_common(p)
    p.set_defaults(handler=show)

    p = sub.add_parser("alias", help="point an alias at a version (champion passes the policy)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("version", type=int, metavar="VERSION")
    p.add_argument("--force", action="store_true", help="override the policy (needs --reason)")
    p.add_argument("--reason", default="", metavar="TEXT", help="why; kept in the audit log")
    p.add_argument(
        "--evidence",
        metavar="JSON|@FILE",
        help="scores of champion and VERSION on the same data, decided on instead of the "
        'registered ones: {"metric": "roc_auc", "data": "dataset@4", "scores": {"1": 0.8, '
        '"2": 0.83}}',
    )
    add_common(p)
    p.set_defaults(handler=alias)

    p = sub.add_parser("unalias", help="remove an alias")
    p.add_argument("name", metavar="NAME")
    p.add_argument("alias", metavar="ALIAS")
    add_common(p)
    p.set_defaults(handler=unalias)

    p = sub.add_parser("policy", help="show or change a model's promotion policy")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--metric", metavar="METRIC")
    p.add_argument("--min-gain", type=float, metavar="X")
    p.add_argument("--require-tags", metavar="TAGS", help="comma-separated, e.g. reviewed")
    p.add_argument("--same-data", choices=("yes", "no"))
    p.add_argument(
        "--replay-agreement",
        type=float,
        metavar="SHARE",
        help="promotion needs a replay (modeldesk replay) agreeing on at least SHARE of rows",
    )
    add_common(p)
    p.set_defaults(handler=policy)

    for action, text in (("archive", "archive a version"), ("restore", "restore a version")):
        p = sub.add_parser(action, help=text)
        p.add_argument("ref", metavar="NAME@V")
        add_common(p)
        p.set_defaults(handler=archive if action == "archive" else restore)

    p = sub.add_parser("tag", help="set (KEY=VALUE) or remove (KEY=) tags of a version")
    p.add_argument("ref", metavar="NAME@V")
    p.add_argument("tags", nargs="+", metavar="KEY=VALUE")
    add_common(p)
    p.set_defaults(handler=tag)

    p = sub.add_parser("lineage", help="dataset → run → version → images → deployments")
    p.add_argument("ref", metavar="NAME[@V|@ALIAS]")
    add_common(p)
    p.set_defaults(handler=lineage)

    p = sub.add_parser("export", help="write a version as a skops file (+ .json) or ONNX")
    p.add_argument("ref", metavar="NAME@V")
    p.add_argument("--format", choices=("skops", "onnx"), default="skops")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    add_common(p)
    p.set_defaults(handler=export)

    p = sub.add_parser("import", help="register a skops file from outside (trusted types only)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", required=True, metavar="NAME")
    p.add_argument(
        "--trust", default="", metavar="TYPES", help="comma-separated types to trust (see error)"
    )
    p.add_argument("--description", default="", metavar="TEXT")
    add_common(p)
    p.set_defaults(handler=import_)

    p = sub.add_parser("card", help="write the model card (Markdown, or HTML for .html)")
    p.add_argument("ref", metavar="NAME@V")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--format", choices=("md", "html"), help="default: from the file suffix")
    add_common(p)
    p.set_defaults(handler=card)


# -- helpers ----------------------------------------------------------------------------------


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InvalidInput(f"'{item}' is not KEY=VALUE.")
        out[key.strip()] = value
    return out


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _version_lines(v: Any) -> list[str]:
    from app.core.training.metrics import PRIMARY

    primary = PRIMARY.get(v.task or "", "")
    return [
        f"{v.ref}  {v.status}" + (f"  [{', '.join(v.aliases)}]" if v.aliases else ""),
        f"  run        {_fmt(v.run_id)}   estimator {v.estimator or '-'}   task {v.task or '-'}"
        f"   target {v.target or '-'}",
        f"  {primary or 'metric':<10} {_fmt(v.metrics.get(primary))}"
        f" ± {_fmt(v.metrics.get(primary + '_std'))}"
        if primary
        else "",
        f"  sha256     {v.artifact_sha256}",
        f"  created    {v.created_at:%Y-%m-%d %H:%M:%S}",
    ]


# -- handlers ---------------------------------------------------------------------------------


def register_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.registry.register(
        args.run_id, args.name, description=args.description, tags=_pairs(args.tag)
    )
    return v.to_dict(), f"Registered run {args.run_id} as {v.ref}."


def list_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    if args.name:
        versions = services.registry.list_versions(args.name)
        rows = []
        for v in versions:
            from app.core.training.metrics import PRIMARY

            key = PRIMARY.get(v.task or "", "")
            rows.append(
                [
                    str(v.version),
                    v.status,
                    ", ".join(v.aliases) or "-",
                    f"{key} {_fmt(v.metrics.get(key))}" if key else "-",
                    _fmt(v.run_id),
                    f"{v.created_at:%Y-%m-%d %H:%M}",
                ]
            )
        text = _table(["VERSION", "STATUS", "ALIASES", "METRIC", "RUN", "CREATED"], rows)
        return {"name": args.name, "versions": [v.to_dict() for v in versions]}, text
    from app.core.store import listing

    models = listing.models(services.reader, args.search)
    payload = {"models": models}
    if not models:
        return payload, "No models match." if args.search else "No models registered yet."
    rows = [
        [
            m["name"],
            str(m["versions"]),
            _fmt(m["latest_version"]),
            ", ".join(f"{a}={n}" for a, n in m["aliases"].items()) or "-",
            m["updated_at"][:16].replace("T", " "),
        ]
        for m in models
    ]
    return payload, _table(["NAME", "VERSIONS", "LATEST", "ALIASES", "UPDATED"], rows)


def show(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.registry.resolve(args.ref)
    payload = v.to_dict()
    payload["lineage"] = services.registry.lineage(v.ref)
    payload["policy"] = services.registry.policy_of(v.model_name)
    lines = [line for line in _version_lines(v) if line]
    if v.description:
        lines += ["", v.description, ""]
    lines.append("Signature")
    for c in v.signature.get("columns", []):
        values = (
            ", ".join(c["categories"][:8])
            if c.get("categories")
            else (f"{_fmt(c.get('min'))} … {_fmt(c.get('max'))}" if "min" in c else "")
        )
        lines.append(
            f"  {c['name']:<24} {c.get('dtype', ''):<10} {c.get('treatment', ''):<9} {values}"
        )
    lines.append("Metrics")
    lines += [f"  {k:<24} {_fmt(val)}" for k, val in sorted(v.metrics.items())]
    if v.tags:
        lines.append("Tags")
        lines += [f"  {k:<24} {val}" for k, val in sorted(v.tags.items())]
    lines.append("Lineage")
    labels = {n["id"]: n["label"] for n in payload["lineage"]["nodes"]}
    lines += [f"  {labels[e['from']]} → {labels[e['to']]}" for e in payload["lineage"]["edges"]]
    return payload, "\n".join(lines)


def read_evidence(text: str | None) -> dict[str, Any] | None:
    """``--evidence``: JSON text, or ``@FILE`` holding it."""
    import json

    if not text:
        return None
    source = "--evidence"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"Cannot read the evidence file {source}: {exc.strerror}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"The evidence in {source} is not JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}).",
            hint='Give {"metric": …, "data": "dataset@version", "scores": {"1": …, "2": …}}.',
        ) from None


def alias(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.registry.set_alias(
        args.name,
        args.alias,
        args.version,
        force=args.force,
        reason=args.reason,
        evidence=read_evidence(args.evidence),
    )
    forced = " (forced; the reason is in the audit log)" if args.force else ""
    on = " on the evidence given" if args.evidence and not forced else ""
    return v.to_dict(), f"{args.name}@{args.alias} → version {v.version}{forced}{on}."


def unalias(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    services.registry.delete_alias(args.name, args.alias)
    return {"name": args.name, "alias": args.alias, "removed": True}, f"Removed {args.alias}."


def policy(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    changes: dict[str, Any] = {
        "metric": args.metric,
        "min_gain": args.min_gain,
        "replay_agreement": args.replay_agreement,
    }
    if args.require_tags is not None:
        changes["required_tags"] = [t for t in args.require_tags.split(",") if t.strip()]
    if args.same_data:
        changes["same_data"] = args.same_data == "yes"
    if any(v is not None for v in changes.values()):
        result = services.registry.set_policy(args.name, **changes)
    else:
        result = services.registry.policy_of(args.name)
    text = "\n".join(f"{k:<14} {v}" for k, v in result.items())
    return {"name": args.name, "policy": result}, text


def archive(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.registry.archive(args.ref)
    return v.to_dict(), f"Archived {v.ref}."


def restore(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    v = services.registry.restore(args.ref)
    return v.to_dict(), f"Restored {v.ref}."


def tag(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    pairs = _pairs(args.tags)
    v = services.registry.update_version(
        args.ref,
        tags={k: val for k, val in pairs.items() if val != ""},
        remove_tags=[k for k, val in pairs.items() if val == ""],
    )
    return v.to_dict(), ", ".join(f"{k}={val}" for k, val in v.tags.items()) or "No tags."


def lineage(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    graph = services.registry.lineage(args.ref)
    labels = {n["id"]: f"{n['kind']} {n['label']}" for n in graph["nodes"]}
    text = "\n".join(f"{labels[e['from']]} → {labels[e['to']]}" for e in graph["edges"])
    return graph, text or labels[graph["nodes"][0]["id"]]


def export(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.output import output_file

    out = output_file(args.output)
    result = services.registry.export(args.ref, out, format=args.format)
    extra = f" and {result['metadata']}" if result.get("metadata") else ""
    check = ""
    if args.format == "onnx":
        renamed = sum(c != n for c, n in result["input_names"].items())
        check = f" (matches scikit-learn on {result['rows_compared']} example rows" + (
            f"; {renamed} column name(s) became ONNX identifiers: the model's metadata "
            f"'modeldesk.input_names' maps each column to its input)"
            if renamed
            else ")"
        )
    return result, f"Wrote {result['path']}{extra}{check}."


def import_(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    trust = [t.strip() for t in args.trust.split(",") if t.strip()]
    v = services.registry.import_file(
        Path(args.file), args.name, trust=trust, description=args.description
    )
    from app.core.training.model_io import KNOWN_SAFE_TYPES

    named = [t for t in v.trusted_types if t not in KNOWN_SAFE_TYPES]
    trusted = f" trusting {', '.join(named)}" if named else ""
    return v.to_dict(), f"Imported {args.file} as {v.ref}{trusted}."


def card(services: Any, args: argparse.Namespace) -> tuple[Any, str]:
    from app.cli.output import output_file, write_text

    out = output_file(args.output)
    fmt = args.format or ("html" if out.suffix.lower() in (".html", ".htm") else "md")
    text = (
        services.registry.card_html(args.ref)
        if fmt == "html"
        else services.registry.card_markdown(args.ref)
    )
    write_text(out, text)
    return {"ref": args.ref, "path": str(out), "format": fmt}, f"Wrote the model card to {out}."
