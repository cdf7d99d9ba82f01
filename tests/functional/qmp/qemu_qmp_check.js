// Drives cr16-system with the npm package qemu-qmp (a QMP client written for
// QEMU, not by us): node qemu_qmp_check.js NODE_MODULES_DIR SOCKET_PATH.
// Prints one JSON object with what it saw; the Python test checks it.
'use strict';
const path = require('path');
const QMP = require(path.join(process.argv[2], 'qemu-qmp'));

const seen = {events: []};
const qmp = new QMP();
const timer = setTimeout(() => {
  seen.error = 'timed out';
  console.log(JSON.stringify(seen));
  process.exit(2);
}, 20000);

function fail(err) {
  seen.error = String(err);
  console.log(JSON.stringify(seen));
  process.exit(1);
}

// qemu-qmp emits QMP events on its net.Socket under lower-case names; the
// socket's own 'resume' (a stream event) would be mistaken for RESUME, so
// the test listens to the others.
for (const name of ['stop', 'reset', 'shutdown']) {
  qmp.on(name, () => seen.events.push(name));
}

qmp.connect(process.argv[3], function(err) {
  if (err) return fail(err);
  seen.version = this.version;
  seen.capabilities = this.capabilities;
  this.execute('query-status', function(err, status) {
    if (err) return fail(err);
    seen.status_before = status;
    this.execute('stop', function(err) {
      if (err) return fail(err);
      this.execute('query-status', function(err, status) {
        if (err) return fail(err);
        seen.status_stopped = status;
        this.execute('human-monitor-command', {'command-line': 'info status'}, function(err, text) {
          if (err) return fail(err);
          seen.hmp = text;
          this.execute('no-such-command', function(err) {
            seen.unknown = err ? err.message : 'no error';
            this.execute('cont', function(err) {
              if (err) return fail(err);
              this.execute('system_reset', function(err) {
                if (err) return fail(err);
                this.execute('query-version', function(err, version) {
                  if (err) return fail(err);
                  seen.query_version = version;
                  this.on('close', () => {
                    clearTimeout(timer);
                    console.log(JSON.stringify(seen));
                  });
                  this.execute('quit', function(err) {
                    if (err) return fail(err);
                    seen.quit = true;
                  });
                });
              });
            });
          });
        });
      });
    });
  });
});
