# smtpd_sink.py - a next hop of our own for avsink-smtpd tests: SMTP or LMTP on loopback, keeps
# every accepted message's exact DATA bytes, refuses chosen recipients. Used by the smtpd tests.
import socket
import threading


class Sink:
    """Threaded SMTP/LMTP server on 127.0.0.1:<port>.

    Recipients starting "reject" get 550 at RCPT, "temp" 451 at RCPT, "lmtptemp" a 452 at the end
    of DATA (LMTP only). Accepted messages are (mail_from, rcpts, bytes, xforward) in self.messages.
    """

    def __init__(self, lmtp=False, port=0):
        self.lmtp = lmtp
        self.messages = []
        self.commands = []
        self.lock = threading.Lock()
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped = True
        try:
            self.srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.srv.close()
        self.thread.join(5)

    def count(self):
        with self.lock:
            return len(self.messages)

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(30)
        f = c.makefile("rb")
        def say(s):
            c.sendall(s.encode() + b"\r\n")
        try:
            say("220 sink ESMTP")
            mail, rcpts, xfwd = None, [], {}
            while True:
                line = f.readline(10000)
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
                with self.lock:
                    self.commands.append(cmd)
                u = cmd.upper()
                if u.startswith("EHLO") or u.startswith("LHLO"):
                    say("250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 100000000\r\n"
                        "250-XFORWARD NAME ADDR PROTO HELO IDENT SOURCE PORT\r\n250 SMTPUTF8")
                elif u.startswith("HELO"):
                    say("250 sink")
                elif u.startswith("XFORWARD"):
                    for kv in cmd.split()[1:]:
                        k, _, v = kv.partition("=")
                        xfwd[k.upper()] = v
                    say("250 2.0.0 Ok")
                elif u.startswith("MAIL"):
                    mail, rcpts = cmd[10:], []
                    say("250 2.1.0 Ok")
                elif u.startswith("RCPT"):
                    addr = cmd[8:].strip("<>")
                    if addr.startswith("reject"):
                        say("550 5.1.1 no such user")
                    elif addr.startswith("temp"):
                        say("451 4.3.0 try later")
                    else:
                        rcpts.append(addr)
                        say("250 2.1.5 Ok")
                elif u == "DATA":
                    say("354 go")
                    data = b""
                    while True:
                        l = f.readline(100000)
                        if not l:
                            return
                        if l == b".\r\n":
                            break
                        if l.startswith(b"."):
                            l = l[1:]
                        data += l
                    # Stored before the reply, so a caller that saw 250 also sees the message.
                    n = len(self.messages)
                    if not self.lmtp or not any(r.startswith("lmtptemp") for r in rcpts):
                        with self.lock:
                            self.messages.append((mail, list(rcpts), data, dict(xfwd)))
                    if self.lmtp:
                        for r in rcpts:
                            say("452 4.2.2 mailbox full" if r.startswith("lmtptemp")
                                else "250 2.0.0 delivered")
                    else:
                        say("250 2.0.0 Ok: queued as SINK%d" % n)
                    mail, rcpts = None, []
                elif u == "RSET":
                    mail, rcpts = None, []
                    say("250 2.0.0 Ok")
                elif u == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("500 5.5.2 what")
        except OSError:
            return
        finally:
            c.close()
