"""Build ``reaper_scripts/index.xml`` the way ``reapack-index`` builds a ReaPack index.

Rules followed (cfillion/reapack-index ``lib/reapack/index.rb``, ``index/scanner.rb``,
``index/provides.rb``; ReaPack's reader is ``src/index_v1.cpp``):

- every ``.lua``/``.eel``/``.py`` file in a folder is a script package unless it says ``@noindex`` or
  an ``--ignore`` line of ``.reapack-index.conf`` names it (the vendored dkjson.lua, kept unchanged);
  its category is its folder (``reaper_scripts``), its name the file name;
- ``@version`` is required and starts with a digit; ``@author`` and ``@changelog`` go on the version,
  ``@description`` is the package's ``desc``, ``@about`` its metadata description (as RTF);
- ``@provides`` lines are ``[options] pattern`` with options ``main``/``nomain`` (and platforms,
  types); a pattern is relative to the category and may glob; ``. > Name.lua`` installs the package
  file itself under another name (an alias: one more action from the same file); when every source
  has a file name the package file itself is added first as a main source;
- download addresses come from one URL template with ``$path`` (and ``$version``, ``$commit``);
  every source carries ``hash``: the file's SHA-256 as a multihash (``1220`` + hex).

The URL template is the one setting of the published repository: ``--url-template`` in the repository's
``.reapack-index.conf`` (reapack-index's own configuration file), or the environment variable
``SEMEQ_REAPACK_URL_TEMPLATE``. Run ``python tools/reapack_index.py`` after changing a script
(tests/test_reapack_index.py checks that the committed index is up to date).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = "reaper_scripts"
INDEX_NAME = "Semantic EQ Bridge"
SCRIPT_EXTENSIONS = (".lua", ".eel", ".py")
CONF = ".reapack-index.conf"
PROVIDES = re.compile(r"^(?:\[\s*(?P<options>.+?)\s*\])?\s*(?P<file>.+?)(?:\s+(?P<url>(?:file|https?)://.+))?$")


def url_template(repo: Path = REPO) -> str:
    """The published repository's URL template (environment variable, else .reapack-index.conf)."""
    template = os.environ.get("SEMEQ_REAPACK_URL_TEMPLATE")
    conf = repo / CONF
    if not template and conf.exists():
        for line in conf.read_text().splitlines():
            m = re.match(r"^\s*--url-template[= ]\s*(\S+)\s*$", line)
            if m:
                template = m.group(1)
    if not template or "$path" not in template or not re.match(r"^(https?|file)://", template):
        raise SystemExit(f"no usable --url-template (with $path) in {conf} or SEMEQ_REAPACK_URL_TEMPLATE")
    return template


def ignored(repo: Path = REPO) -> tuple[str, ...]:
    """Paths reapack-index must not scan as packages (``--ignore`` in .reapack-index.conf)."""
    conf = repo / CONF
    if not conf.exists():
        return ()
    return tuple(m.group(1) for line in conf.read_text().splitlines() if (m := re.match(r"^\s*--ignore[= ]\s*(\S+)\s*$", line)))


def parse_header(text: str) -> dict[str, str]:
    """MetaHeader tags of a script's leading comment: ``-- @tag value`` plus indented continuation lines."""
    tags: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:]
        m = re.match(r"^\s*@(\w+)\s*(.*)$", body)
        if m:
            current = m.group(1).lower()
            tags[current] = m.group(2).strip()
        elif current and re.match(r"^\s{2,}\S", body):
            tags[current] = (tags[current] + "\n" + body.strip()).strip()
        else:
            current = None
    return tags


def _rtf(markdown: str) -> str:
    """A plain RTF rendering of @about (headings bold and larger, paragraphs as they are)."""
    out = [r"{\rtf1\ansi\deff0{\fonttbl{\f0 \fswiss Helvetica;}}\f0\pard"]
    for line in markdown.splitlines():
        text = line.lstrip("# ").replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("`", "")
        size = r"\b \fs36 " if line.startswith("#") else ""
        out.append(r"{\pard \ql \f0 \sa180 \li0 \fi0 " + size + text + r"\par}")
    return "\n".join(out) + "\n}\n"


def _hash(path: Path) -> str:
    return "1220" + hashlib.sha256(path.read_bytes()).hexdigest()


def _url(template: str, repo_path: str, version: str, commit: str) -> str:
    return template.replace("$path", quote(repo_path)).replace("$version", version).replace("$commit", commit)


def package_sources(repo: Path, pkg: str, tags: dict[str, str], template: str) -> list[dict]:
    """The <source> entries of one package (dicts: url, file or None, main, hash)."""
    category = os.path.dirname(pkg)
    files = sorted(p.relative_to(repo).as_posix() for p in (repo / category).rglob("*") if p.is_file())
    version, commit = tags["version"], "master"
    sources = []
    for line in filter(None, (ln.strip() for ln in tags.get("provides", "").splitlines())):
        m = PROVIDES.match(line)
        options = (m.group("options") or "").lower().split()
        unknown = [o for o in options if o not in ("main", "nomain")]
        if unknown:
            raise SystemExit(f"{pkg}: unknown @provides option {unknown[0]!r}")
        main = "main" in options
        pattern, _, target = (part.strip() for part in m.group("file").partition(" > "))
        if pattern == ".":
            matched = [pkg]
        else:
            expanded = os.path.normpath(os.path.join(category, pattern)).replace(os.sep, "/")
            matched = [f for f in files if fnmatch.fnmatchcase(f, expanded)]
            if not matched:
                raise SystemExit(f"{pkg}: @provides file not found '{pattern}'")
        for f in matched:
            name = target or (None if f == pkg else os.path.relpath(f, category).replace(os.sep, "/"))
            sources.append({"url": _url(template, f, version, commit), "file": name, "main": main, "hash": _hash(repo / f)})
    if all(s["file"] is not None for s in sources):
        sources.insert(0, {"url": _url(template, pkg, version, commit), "file": None, "main": True, "hash": _hash(repo / pkg)})
    return sources


def build(repo: Path = REPO, template: str | None = None) -> str:
    """The index XML for every script package under ``reaper_scripts/``."""
    template = template or url_template(repo)
    skip = ignored(repo)
    categories: dict[str, list[str]] = {}
    for path in sorted((repo / SCRIPTS).rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if path.suffix.lower() in SCRIPT_EXTENSIONS and path.is_file() and not rel.startswith(skip or ("\0",)):
            tags = parse_header(path.read_text(encoding="utf-8"))
            if "noindex" in tags:
                continue
            if not re.match(r"^\d", tags.get("version", "")):
                raise SystemExit(f"{rel}: @version is required and must start with a digit")
            categories.setdefault(os.path.dirname(rel), []).append(_package_xml(repo, rel, tags, template))
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<index version=\"1\" name={quoteattr(INDEX_NAME)}>"]
    for name in sorted(categories, key=str.lower):
        lines.append(f"  <category name={quoteattr(name)}>")
        lines.extend(categories[name])
        lines.append("  </category>")
    lines.append("</index>")
    return "\n".join(lines) + "\n"


def _package_xml(repo: Path, rel: str, tags: dict[str, str], template: str) -> str:
    name = os.path.basename(rel)
    out = [f"    <reapack name={quoteattr(name)} type=\"script\" desc={quoteattr(tags.get('description', ''))}>"]
    if tags.get("about"):
        out += ["      <metadata>", f"        <description><![CDATA[{_rtf(tags['about'])}]]></description>", "      </metadata>"]
    author = f" author={quoteattr(tags['author'])}" if tags.get("author") else ""
    out.append(f"      <version name={quoteattr(tags['version'])}{author}>")
    if tags.get("changelog"):
        out.append(f"        <changelog><![CDATA[{tags['changelog']}]]></changelog>")
    for s in package_sources(repo, rel, tags, template):
        attrs = (' main="main"' if s["main"] else "") + (f" file={quoteattr(s['file'])}" if s["file"] else "")
        out.append(f"        <source{attrs} hash=\"{s['hash']}\">{escape(s['url'])}</source>")
    out += ["      </version>", "    </reapack>"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write reaper_scripts/index.xml (ReaPack) from the scripts' headers.")
    p.add_argument("--check", action="store_true", help="only say whether the committed index is up to date")
    args = p.parse_args(argv)
    text = build()
    target = REPO / SCRIPTS / "index.xml"
    if args.check:
        same = target.exists() and target.read_text(encoding="utf-8") == text
        print("index.xml is up to date" if same else "index.xml is out of date: run python tools/reapack_index.py")
        return 0 if same else 1
    tmp = target.with_suffix(".xml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    print(f"wrote {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
