"""actions/setup-java stub: a JDK of the machine (/usr/lib/jvm, or the java on PATH) with the
requested major version if there is one, else the default with a warning; the cache input
fails where the real one fails (no build file matched)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import cache
import stublib as s

DISTRIBUTIONS = {"adopt", "adopt-hotspot", "adopt-openj9", "temurin", "zulu", "liberica", "jdkfile",
                 "microsoft", "semeru", "corretto", "oracle", "dragonwell", "sapmachine", "graalvm",
                 "graalvm-community", "jetbrains", "kona"}
PATTERNS = {
    "maven": ["**/pom.xml", "**/.mvn/wrapper/maven-wrapper.properties", "**/.mvn/extensions.xml"],
    "gradle": ["**/*.gradle*", "**/gradle-wrapper.properties", "buildSrc/**/Versions.kt",
               "buildSrc/**/Dependencies.kt", "gradle/*.versions.toml", "**/versions.properties"],
    "sbt": ["**/*.sbt", "**/project/build.properties", "**/project/**.scala", "**/project/**.sbt"],
}
CACHE_PATHS = {"maven": ["~/.m2/repository"], "gradle": ["~/.gradle/caches"],
               "sbt": ["~/.ivy2/cache", "~/.sbt", "~/.cache/coursier"]}


def boolean(c: s.Call, name: str, default: bool) -> bool:
    return (c.get(name) or str(default)).upper() == "TRUE"


def machine_jdks() -> dict[str, Path]:
    """Full version -> JAVA_HOME of every JDK on the machine."""
    homes = [Path(p) for p in sorted(Path("/usr/lib/jvm").glob("*")) if (Path(p) / "bin/java").exists()]
    java = shutil.which("java")
    if java:
        homes.append(Path(java).resolve().parent.parent)
    found: dict[str, Path] = {}
    for home in homes:
        release = home / "release"
        text = release.read_text(encoding="utf-8") if release.exists() else ""
        m = re.search(r'^JAVA_VERSION="([^"]+)"', text, re.MULTILINE)
        if m:
            found.setdefault(m[1], home.resolve())
    return found


def version_from_file(content: str, file: str) -> str | None:
    """src/util.ts getVersionFromFileContent (the version part)."""
    name = os.path.basename(file)
    if name == ".tool-versions":
        m = re.search(r"^java\s+(?:(?P<distribution>\S*)-)?(?P<version>\d+(?:\.\d+)*)", content,
                      re.MULTILINE | re.IGNORECASE)
    elif name == ".sdkmanrc":
        m = re.search(r"^java\s*=\s*(?P<version>[^-\s]+)", content, re.MULTILINE)
    else:
        m = re.search(r"(?P<version>(?<![^\s-])(\d+\S*))(\s|$)", content)
    return m["version"] if m else None


def install(c: s.Call, spec: str, distribution: str) -> None:
    jdks = machine_jdks()
    if not jdks:
        raise s.RunError(f"Could not find satisfied version for SemVer '{spec}'.")
    match = next((v for v in sorted(jdks, key=s.version_tuple, reverse=True)
                  if s.version_matches(spec.removesuffix("-ea"), v)), None)
    if match is None:
        match = max(jdks, key=s.version_tuple)
        s.warning(f"act harness: java-version '{spec}' ({distribution}) requested, the machine has "
                  f"{', '.join(sorted(jdks))}; using {match}")
    home = jdks[match]
    c.stub("download", f"{distribution} {spec} comes from the machine ({match} at {home})")
    if boolean(c, "set-default", True):
        s.export_variable("JAVA_HOME", str(home))
        s.add_path(home / "bin")
    s.set_output("distribution", distribution)
    s.set_output("path", str(home))
    s.set_output("version", match)
    s.export_variable(f"JAVA_HOME_{match.split('.')[0]}_X64", str(home))
    s.info(f"Java configuration:\n  Distribution: {distribution}\n  Version: {match}\n  Path: {home}")
    c.note(f"java {match} for {spec}")


def restore(c: s.Call, manager: str, dependency_path: str) -> None:
    """src/cache.ts restore."""
    if manager not in PATTERNS:
        raise s.RunError(f"unknown package manager specified: {manager}")
    patterns = dependency_path.strip().split("\n") if dependency_path else PATTERNS[manager]
    digest = s.hash_files(patterns, Path.cwd())
    if not digest:
        raise s.RunError(f"No file in {os.getcwd()} matched to [{','.join(patterns)}], make sure you "
                         "have checked out the target repository")
    primary = f"setup-java-{os.environ.get('RUNNER_OS', 'Linux')}-x64-{manager}-{digest}"
    s.set_output("cache-primary-key", primary)
    matched = cache.restore([os.path.expanduser(p) for p in CACHE_PATHS[manager]], primary)
    s.set_output("cache-hit", "true" if matched == primary else "false")
    s.info(f"Cache restored from key: {matched}" if matched else f"{manager} cache is not found")
    c.note(f"{manager} cache {'hit' if matched else 'miss'} ({primary})")
    c.stub("post-job cache save", "a composite action has no post step")


def main(c: s.Call) -> None:
    versions = c.lines("java-version")
    distribution = c.get("distribution")
    version_file = c.get("java-version-file")
    if c.get("jdkFile"):
        s.warning("The 'jdkFile' input is deprecated and may be removed in a future release. "
                  "Please use 'jdk-file' instead.")
    for name, default in (("check-latest", False), ("set-default", True), ("verify-signature", False)):
        boolean(c, name, default)
    if not versions and not version_file:
        raise s.RunError("java-version or java-version-file input expected")
    if not versions:
        version = version_from_file(Path(version_file).read_text(encoding="utf-8").strip(), version_file)
        if not version:
            raise s.RunError(f"No supported version was found in file {version_file}")
        if not distribution:
            raise s.RunError("distribution input is required when not specified in the version file")
        versions = [version]
    elif not distribution:
        raise s.RunError("distribution input is required")
    if distribution not in DISTRIBUTIONS:
        raise s.RunError(f"No supported distribution was found for input {distribution}")
    if distribution in ("adopt", "adopt-hotspot", "adopt-openj9"):
        replacement = "semeru" if distribution == "adopt-openj9" else "temurin"
        s.warning(f"The '{distribution}' legacy AdoptOpenJDK distribution is deprecated and will be "
                  f"removed in setup-java v6. Please migrate to the '{replacement}' distribution.")
    for spec in versions:
        install(c, spec, distribution)
    settings = c.get("settings-path")
    if settings:
        write_settings(c, Path(settings))
    else:
        c.stub("~/.m2/settings.xml", "the host's own Maven settings are left alone")
    cache = c.get("cache")
    if cache:
        restore(c, cache, c.get("cache-dependency-path"))


def write_settings(c: s.Call, directory: Path) -> None:
    """src/auth.ts createAuthenticationSettings: the server entry reads env variables."""
    target = directory / "settings.xml"
    if target.exists() and not boolean(c, "overwrite-settings", True):
        s.info(f"Skipping generation of {target} because file already exists and overwriting is "
               "not enabled")
        return
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(
        '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">\n  <servers>\n    <server>\n'
        f"      <id>{c.get('server-id')}</id>\n"
        f"      <username>${{env.{c.get('server-username')}}}</username>\n"
        f"      <password>${{env.{c.get('server-password')}}}</password>\n"
        "    </server>\n  </servers>\n</settings>\n", encoding="utf-8")
    s.info(f"Creating settings.xml with server-id: {c.get('server-id')}")


if __name__ == "__main__":
    s.run_stub("actions/setup-java", main, in_workspace=True)
