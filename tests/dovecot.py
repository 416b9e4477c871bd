"""A throwaway Dovecot IMAP server on a loopback port, for the services tier and the benchmark.

Debian's `dovecot-imapd` is installed by `make dovecot` (which `make test` runs), the way `make
browser` installs Chromium. The server runs from a configuration written into a temporary folder:
one user with a plain password in a passwd-file, Maildir mail under the folder, no TLS, its own
base and state directories, so it touches nothing of a system Dovecot and several can run at once.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = os.environ.get("HELPDESK_TEST_DOVECOT", "/usr/sbin/dovecot")
USER = "helpdesk"
PASSWORD = "mailbox-secret"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def available() -> str | None:
    """None when a Dovecot can run here, else why not."""
    if not Path(DOVECOT).exists():
        return f"no Dovecot at {DOVECOT} (Debian package dovecot-imapd; 'sudo make dovecot')"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accounts() -> tuple[str, str, int, int]:
    """Who the server's processes and the mail run as: the system's dovecot users under root,
    this user otherwise (Dovecot then runs unprivileged)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    nobody = pwd.getpwnam("nobody")
    internal = "dovecot" if _has_user("dovecot") else "nobody"
    login = "dovenull" if _has_user("dovenull") else "nobody"
    return internal, login, nobody.pw_uid, nobody.pw_gid


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class Dovecot:
    root: Path
    port: int
    user: str = USER
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/INBOX"

    @classmethod
    def start(cls, root: Path) -> Dovecot:
        port = _free_port()
        internal, login, uid, gid = _accounts()
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        # Dovecot's own users (auth, mail) must read the folder and the passwd-file.
        root.chmod(0o755)
        if os.geteuid() == 0:
            os.chown(root / "mail", uid, gid)
        (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (root / "users").chmod(0o644)
        config = root / "dovecot.conf"
        config.write_text(
            _CONFIG.format(root=root, port=port, uid=uid, gid=gid, internal=internal, login=login)
        )
        subprocess.run([DOVECOT, "-c", str(config)], check=True, timeout=30)
        server = cls(root, port)
        server._wait_listening()
        return server

    def _wait_listening(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        log = (self.root / "dovecot.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Dovecot did not listen on {self.port}:\n{log}")

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(self.root / "run", ignore_errors=True)
