"""The one table of rule codes (like ruff's codes.rs). A code, once given, keeps its name
forever; a retired rule keeps its line so its code is never reused. Names are the stable
vocabulary of the corpus labels and of `--select`; codes are what users type and silence."""

CODES: dict[str, str] = {
    "UT001": "extras-without-conflicts",
    "UT002": "accelerator-extra-without-source",
    "UT003": "companion-build-mismatch",
    "UT004": "base-install-pulls-pypi-torch",
    "UT005": "platform-gets-other-build",
    "UT006": "index-not-explicit",
    "UT007": "inert-source",
    "UT008": "extra-alias-not-routed",
    "UT009": "inert-build-setting",
    "UT010": "unused-index",
    "UT011": "risky-resolution-setting",
    "UT012": "nonexistent-version",
    "UT013": "default-group-conflicts",
    "UT014": "kernel-without-build-torch",
    "UT015": "no-build-for-accelerator",
    "UT016": "nightly-without-triton-source",
    "UT017": "system-torch-not-excluded",
    "UT018": "lock-cuda-without-nvidia",
    "UT019": "lock-missing-platform-wheel",
    "UT020": "lock-system-extra-pulls-torch",
    "UT021": "system-torch-mismatch",
    "UT022": "lock-other-host",
    "UT023": "invalid-project-table",
}
