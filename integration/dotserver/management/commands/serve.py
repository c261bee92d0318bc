"""manage.py serve: Django's development server (as runserver) on a free loopback port.

It binds 127.0.0.1 port 0, so the kernel picks a free port and nothing can take
it between choosing and binding, then writes the port to --port-file (atomically)
and serves with one thread per request until it gets SIGTERM.
"""
import os
import socketserver

from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Command(BaseCommand):
    help = "Serve on 127.0.0.1 and a free port, written to --port-file."

    def add_arguments(self, parser):
        parser.add_argument("--port-file", required=True)
        parser.add_argument("--port", type=int, default=0)

    def handle(self, *args, **options):
        httpd = ThreadedWSGIServer(("127.0.0.1", options["port"]), WSGIRequestHandler)
        httpd.set_app(WSGIHandler())
        path = options["port_file"]
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % httpd.server_address[1])
        os.replace(path + ".tmp", path)
        httpd.serve_forever()
