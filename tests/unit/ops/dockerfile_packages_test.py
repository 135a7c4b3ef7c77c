#!/usr/bin/env python3
"""The Dockerfile installs what scripts/setup installs, and its runtime stage has every library
the daemon links.

1. The build stage's apt-get list equals the build packages of scripts/packages.txt (the lines
   above "# tests and tools"), so a package added for the build is not forgotten in the image.
2. With the built executable given: every shared library it links directly (DT_NEEDED) belongs to
   a package the runtime stage installs, or to one that bookworm-slim already has.

Usage: dockerfile_packages_test.py DOCKERFILE PACKAGES_TXT [EXECUTABLE]
"""
import os
import re
import subprocess
import sys

# In debian:bookworm-slim already (Essential / priority required).
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}
BUILD_SECTION_END = "# tests and tools"


def stages(dockerfile_text):
    """[(FROM line, [packages of its apt-get install lines])]"""
    joined = re.sub(r"\\\n", " ", dockerfile_text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line.upper().startswith("FROM "):
            result.append((line, []))
        elif line.upper().startswith("RUN ") and "apt-get install" in line and result:
            for command in line.split("&&"):
                if "apt-get install" not in command:
                    continue
                words = command.split("apt-get install", 1)[1].split()
                result[-1][1].extend(w for w in words if not w.startswith("-"))
    return result


def build_packages(packages_txt):
    packages = []
    for line in packages_txt.splitlines():
        line = line.strip()
        if line == BUILD_SECTION_END:
            return packages
        if line and not line.startswith("#"):
            packages.append(line)
    sys.exit(f"FAIL: scripts/packages.txt has no '{BUILD_SECTION_END}' line separating the build "
             "packages from the test tools")


def needed_libraries(executable):
    out = subprocess.run(["readelf", "-d", executable], check=True, capture_output=True,
                         text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def package_of(soname):
    cache = subprocess.run(["ldconfig", "-p"], check=True, capture_output=True, text=True).stdout
    for line in cache.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split()[0] == soname:
            path = os.path.realpath(parts[1])
            for candidate in (parts[1], path):
                found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
                if found.returncode == 0:
                    return found.stdout.split(":", 1)[0].strip()
    return None


# Sanitizer runtimes linked into the instrumented test builds; the image builds without them.
SANITIZER_RUNTIMES = ("libasan.so", "libubsan.so", "libtsan.so", "liblsan.so")


def main():
    dockerfile, packages_txt = sys.argv[1], sys.argv[2]
    executable = sys.argv[3] if len(sys.argv) > 3 else ""
    with open(dockerfile) as f:
        found = stages(f.read())
    with open(packages_txt) as f:
        wanted = build_packages(f.read())
    failures = []
    if len(found) != 2:
        failures.append(f"expected two stages (build, runtime), found {[s[0] for s in found]}")
    else:
        (build_from, build), (run_from, runtime) = found
        if "debian:bookworm" not in build_from or "slim" in build_from:
            failures.append(f"build stage must be debian:bookworm: {build_from}")
        if "debian:bookworm-slim" not in run_from:
            failures.append(f"runtime stage must be debian:bookworm-slim: {run_from}")
        missing = sorted(set(wanted) - set(build))
        extra = sorted(set(build) - set(wanted))
        if missing:
            failures.append(f"build stage lacks packages of scripts/packages.txt: {missing}")
        if extra:
            failures.append(f"build stage installs packages scripts/packages.txt does not: {extra}")
        if any(p.endswith("-dev") for p in runtime):
            failures.append(f"runtime stage installs -dev packages: {runtime}")
        needed = needed_libraries(executable) if executable and os.path.exists(executable) else []
        if any(soname.startswith(SANITIZER_RUNTIMES) for soname in needed):
            # A sanitizer build (build-asan/, build-tsan/) is never an image's, and its runtime
            # brings libraries of its own (libatomic for ASan+UBSan); the plain build's run of
            # this test checks the image's libraries.
            print(f"note: {executable} is a sanitizer build; runtime libraries not checked")
        elif needed:
            for soname in needed:
                package = package_of(soname)
                if package is None:
                    failures.append(f"{soname}: no Debian package owns it")
                elif package.split(":")[0] not in set(runtime) | BASE_IMAGE_PACKAGES:
                    failures.append(f"{soname} comes from {package}, which the runtime stage "
                                    "does not install")
        elif executable:
            print(f"note: {executable} not built; runtime libraries not checked")
    for failure in failures:
        print("FAIL:", failure)
    if not failures:
        print(f"ok: {len(wanted)} build packages agree; runtime stage: {found[1][1]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
