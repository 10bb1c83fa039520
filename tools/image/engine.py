"""The container engine: docker when a daemon answers, else rootful Podman set up as these machines
need it (Debian's packages, runc, explicit ulimits, a private containers.conf, and a stand-in for
the base image when no registry can be reached); then the build."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"
TAG = "storefront:latest"
PACKAGES = ["podman", "runc", "debootstrap", "iptables"]
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What the stand-in base holds: Debian's Python 3.11 and what the official slim image also ships.
STAND_IN_SUITE = "bookworm"
STAND_IN_PACKAGES = ["python3.11", "python3.11-venv", "ca-certificates", "netbase", "tzdata"]
STAND_IN_SCRIPT = r"""
set -euo pipefail
rootfs=$1 tarball=$2 suite=$3; shift 3
log=$rootfs.log
trap 'rm -f "$log"' EXIT
chmod 755 "$rootfs"  # apt's sandbox user must reach the chroot
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }; }
quiet debootstrap --variant=minbase "$suite" "$rootfs"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# As Debian's official slim images: no apt caches or downloaded packages, no docs, man pages, locales.
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'END'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
END
printf 'path-exclude %s\n' '/usr/share/doc/*' '/usr/share/man/*' '/usr/share/locale/*' '/usr/share/info/*' \
    > "$rootfs/etc/dpkg/dpkg.cfg.d/docker"
echo 'path-include /usr/share/doc/*/copyright' >> "$rootfs/etc/dpkg/dpkg.cfg.d/docker"
quiet chroot "$rootfs" apt-get update
quiet chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3"
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python"
# pip inside a build trusts the host's CA bundle, mounted read-only over this path while building.
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$rootfs/etc/pip.conf"
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs/etc/resolv.conf" "$rootfs"/usr/share/{man,locale,info}/*
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
mv "$tarball.part" "$tarball"
"""
STAND_IN_LABEL = "org.storefront.stand-in"
BRIDGE = "cni-podman0"
CNI_STATE = Path("/var/lib/cni/networks/podman")
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
IMPORT_CHANGES = [
    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
]


@dataclass
class Engine:
    """A container CLI (`docker` or `podman`) and whether this run installed it."""

    name: str
    installed_here: bool = False

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the engine's CLI; output captured as text."""
        return subprocess.run([self.name, *args], capture_output=True, text=True, check=check, timeout=timeout)

    def ok(self, *args: str, timeout: float = 120) -> bool:
        """True when the command exits 0."""
        return self.run(*args, check=False, timeout=timeout).returncode == 0


def cache_dir() -> Path:
    """Where the stand-in's root file system and the private engine config are kept between runs."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "storefront-image"
    path.mkdir(parents=True, exist_ok=True)
    return path


def docker_works() -> bool:
    """True when a docker client is here and its daemon answers."""
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def install_podman() -> bool:
    """Install Podman and its helpers from Debian's packages where missing; True when this run
    installed Podman itself (and so may reset it afterwards)."""
    missing = [tool for tool in ("podman", "runc", "debootstrap", "iptables") if not shutil.which(tool)]
    if not missing:
        return False
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"missing {', '.join(missing)}: install {' '.join(PACKAGES)} (as root, from apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    subprocess.run(install, check=True, env=env, stdout=subprocess.DEVNULL)
    return "podman" in missing


def _limit(kind: int, ceiling: int) -> int:
    """This machine's hard limit, capped: a container may not raise it without CAP_SYS_RESOURCE."""
    hard = resource.getrlimit(kind)[1]
    return ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)


def containers_conf() -> Path:
    """A private containers.conf (runc, explicit ulimits, cgroupfs), exported as CONTAINERS_CONF.

    crun refuses hybrid cgroups here, and Podman's default ulimits exceed what this VM may set.
    """
    nofile, nproc = _limit(resource.RLIMIT_NOFILE, 1_048_576), _limit(resource.RLIMIT_NPROC, 32_768)
    path = cache_dir() / "containers.conf"
    path.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    os.environ["CONTAINERS_CONF"] = str(path)
    return path


def setup_podman() -> Engine:
    """Podman ready to build and run: installed if missing, with the private configuration."""
    installed = install_podman()
    containers_conf()
    return Engine("podman", installed_here=installed)


def pick_engine() -> Engine:
    """docker when its daemon answers, else Podman (set up as needed)."""
    return Engine("docker") if docker_works() else setup_podman()


def base_images(containerfile: Path = CONTAINERFILE) -> list[str]:
    """The images the Containerfile's FROM lines name (not its own stages)."""
    stages: set[str] = set()
    images: list[str] = []
    for line in containerfile.read_text().splitlines():
        if match := re.match(r"\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE):
            image, stage = match.groups()
            if image.lower() not in stages and image not in images:
                images.append(image)
            if stage:
                stages.add(stage.lower())
    return images


def stand_in_key() -> str:
    """Names one recipe of the stand-in: a change to it makes a new one."""
    return hashlib.sha256(f"{STAND_IN_SUITE} {STAND_IN_PACKAGES} {STAND_IN_SCRIPT}".encode()).hexdigest()[:12]


def stand_in_tarball() -> Path:
    """The stand-in's root file system as a tarball, made with debootstrap once and cached."""
    tarball = cache_dir() / f"stand-in-{STAND_IN_SUITE}-{stand_in_key()}.tar"
    if tarball.exists():
        return tarball
    for stale in cache_dir().glob("stand-in-*.tar"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=cache_dir()) as rootfs:
        command = ["bash", "-c", STAND_IN_SCRIPT, "stand-in", rootfs, str(tarball), STAND_IN_SUITE, *STAND_IN_PACKAGES]
        subprocess.run(command, check=True)
    return tarball


def ensure_base(engine: Engine, image: str) -> str:
    """Make `image` available locally; return how: "present", "pulled" or "stand-in".

    No registry is reachable on this project's machines: when a pull fails, a Debian stand-in
    (Debian's Python 3.11 instead of python.org's) is imported under the same name.
    """
    key = stand_in_key()
    if engine.ok("image", "exists", image):
        label = engine.run("image", "inspect", "--format", f'{{{{index .Labels "{STAND_IN_LABEL}"}}}}', image).stdout
        if label.strip() in ("", "<no value>", key):  # the real image, or this very stand-in
            return "present"
    elif engine.ok("pull", "--quiet", image, timeout=60):
        return "pulled"
    tarball = stand_in_tarball()
    changes = [arg for change in [*IMPORT_CHANGES, f"LABEL {STAND_IN_LABEL}={key}"] for arg in ("--change", change)]
    engine.run("import", *changes, str(tarball), image, timeout=300)
    return "stand-in"


def build(engine: Engine, tag: str = TAG) -> None:
    """Build the image from the Containerfile, streaming the engine's output; the image it replaces
    is removed (unless a container still uses it)."""
    before = engine.run("image", "inspect", "--format", "{{.Id}}", tag, check=False).stdout.strip()
    command = [engine.name, "build", "-f", str(CONTAINERFILE), "-t", tag]
    if engine.name == "podman":
        # HEALTHCHECK survives only in the docker format; pip needs the host's CA bundle (read-only,
        # at build time only: no layer keeps it).
        command += ["--pull=never", "--format", "docker"]
        if CA_BUNDLE.is_file():
            command += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    subprocess.run([*command, str(ROOT)], check=True)
    after = engine.run("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    if before and before != after:
        engine.run("rmi", before, check=False)


def image_size(engine: Engine, tag: str = TAG) -> int:
    """The image's size in bytes, as the engine reports it."""
    return int(engine.run("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())


def _drop_cni_chains() -> None:
    """Remove the firewall chains Podman's CNI plugins add (named CNI-*) and the jumps to them."""
    for table in ("filter", "nat"):
        rules = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout.splitlines()
        chains = [rule.split()[1] for rule in rules if rule.startswith("-N CNI-")]
        for rule in rules:
            words = shlex.split(rule)
            target = words[words.index("-j") + 1] if "-j" in words else ""
            if words[0] == "-A" and not words[1].startswith("CNI-") and target.startswith("CNI-"):
                subprocess.run(["iptables", "-t", table, "-D", *words[1:]], check=False)
        for flag in ("-F", "-X"):
            for chain in chains:
                subprocess.run(["iptables", "-t", table, flag, chain], check=False, capture_output=True)


def reset_podman(engine: Engine, ip_forward: str) -> None:
    """Undo what a Podman that this run installed left: storage, containers and volumes (`podman
    system reset`), then what that leaves behind on Podman 4.3: the bridge, the CNI firewall chains,
    the address leases and `ip_forward`."""
    engine.run("system", "reset", "--force", check=False, timeout=300)
    subprocess.run(["ip", "link", "delete", BRIDGE], check=False, capture_output=True)
    _drop_cni_chains()
    shutil.rmtree(CNI_STATE, ignore_errors=True)
    if ip_forward == "0":
        IP_FORWARD.write_text("0\n")
