# Debian docker-compose 1.29 `config`, run by its own main() for many projects in ONE
# Python process (jobs as JSON lines on stdin, one JSON answer a line): one start-up
# and import instead of one per project, which made the corpus parity test minutes long.
import contextlib, io, json, os, sys
from compose.cli.main import main
base_env = dict(os.environ)
for line in sys.stdin:
    job = json.loads(line)
    os.environ.clear(); os.environ.update(base_env); os.environ.update(job['env'])
    os.chdir(job['cwd'])
    sys.argv = ['docker-compose', '-p', job['project'], '-f', job['file'], 'config']
    out, err, code = io.StringIO(), io.StringIO(), 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except Exception as e:
        code = 1; err.write(repr(e))
    sys.__stdout__.write(json.dumps({'code': code, 'stdout': out.getvalue(), 'stderr': err.getvalue()}) + '\n'); sys.__stdout__.flush()
