#!/usr/bin/env python3
"""Let meson drive cargo, as gst-plugins-rs does (its cargo_wrapper.py).

Commands:
  build   cargo build one package, copy its cdylib to --output, and write a depfile
          (from cargo's own .d file) so meson rebuilds when a source file changes;
  bins    cargo build the command-line tools (--bin, repeatable, from the packages given
          with --package) and copy them into --output-dir;
  test    cargo test one package (or the whole workspace without --package);
  clippy  cargo clippy --all-targets on the workspace with -D warnings.
"""

import argparse
import os
import shutil
import subprocess
import sys


def cargo(args, source_dir, target_dir):
    cmd = ["cargo"] + args + [
        "--manifest-path", os.path.join(source_dir, "Cargo.toml"),
        "--target-dir", target_dir,
    ]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd).returncode


def profile_args(profile):
    return ["--release"] if profile == "release" else []


def feature_args(features):
    return ["--features", ",".join(features)] if features else []


def write_depfile(cargo_depfile, output, depfile):
    """Rewrite cargo's `<artifact>: deps...` make rule for meson's output name."""
    with open(cargo_depfile) as f:
        rule = f.read()
    _, _, deps = rule.partition(": ")
    with open(depfile, "w") as f:
        f.write(f"{output}: {deps}")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("command", choices=["build", "bins", "test", "clippy"])
    p.add_argument("--source-dir", required=True)
    p.add_argument("--target-dir", required=True)
    p.add_argument("--profile", default="release", choices=["release", "debug"])
    p.add_argument("--package", action="append", default=[])
    p.add_argument("--bin", action="append", default=[])
    p.add_argument("--output-dir")
    p.add_argument("--feature", action="append", default=[])
    p.add_argument("--output")
    p.add_argument("--depfile")
    p.add_argument("--lib-name", help="the cdylib's file name, when not the package's")
    a = p.parse_args()

    source_dir = os.path.abspath(a.source_dir)
    target_dir = os.path.abspath(a.target_dir)

    packages = [arg for name in a.package for arg in ("-p", name)]
    if a.command == "build":
        rc = cargo(["build"] + packages + profile_args(a.profile) + feature_args(a.feature),
                   source_dir, target_dir)
        if rc != 0:
            return rc
        lib = a.lib_name or (
            "lib" + a.package[0].replace("gst-plugin-", "gst").replace("-", "_") + ".so")
        built = os.path.join(target_dir, a.profile, lib)
        shutil.copy2(built, a.output)
        if a.depfile:
            write_depfile(os.path.splitext(built)[0] + ".d", a.output, a.depfile)
        return 0
    if a.command == "bins":
        bins = [arg for name in a.bin for arg in ("--bin", name)]
        rc = cargo(["build"] + packages + bins + profile_args(a.profile), source_dir, target_dir)
        if rc != 0:
            return rc
        for name in a.bin:
            shutil.copy2(os.path.join(target_dir, a.profile, name), os.path.join(a.output_dir, name))
        return 0
    if a.command == "test":
        scope = packages or ["--workspace"]
        return cargo(["test"] + scope + profile_args(a.profile) + feature_args(a.feature),
                     source_dir, target_dir)
    return cargo(["clippy", "--workspace", "--all-targets"] + profile_args(a.profile)
                 + ["--", "-D", "warnings"], source_dir, target_dir)


if __name__ == "__main__":
    sys.exit(main())
