// Follows channels of one tournament with the real pusher-js client, in Node, and prints what
// it sees as JSON lines on stdout. Run by tests/integration/test_pusher_js.py:
//   node follow.js '{"host": "127.0.0.1", "port": 8000, "key": "<tournament id>",
//                    "authEndpoint": "http://...", "token": "<credential>", "channels": [...]}'
// A line "unsubscribe <channel>" on stdin unsubscribes; stdin closing ends the client.
"use strict";

const Pusher = require("pusher-js");
const readline = require("node:readline");

const options = JSON.parse(process.argv[2]);
const out = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const pusher = new Pusher(options.key, {
  cluster: "local", // required by pusher-js, unused with wsHost
  wsHost: options.host,
  wsPort: options.port,
  forceTLS: false,
  enabledTransports: ["ws"],
  enableStats: false,
  channelAuthorization: {
    endpoint: options.authEndpoint,
    transport: "ajax",
    headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
  },
});

pusher.connection.bind("state_change", (states) => out({ type: "state", ...states }));
pusher.connection.bind("connected", () =>
  out({ type: "connected", socket_id: pusher.connection.socket_id }),
);
pusher.connection.bind("error", (error) => out({ type: "error", error }));

for (const name of options.channels) {
  const channel = pusher.subscribe(name);
  channel.bind_global((event, data) => {
    const line = { type: "event", channel: name, event, data };
    if (channel.members) {
      // Presence: the member list as pusher-js keeps it.
      line.members = { count: channel.members.count, me: channel.members.me };
      line.members.ids = Object.keys(channel.members.members).sort();
    }
    out(line);
  });
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, argument] = line.trim().split(" ");
  if (command === "unsubscribe") pusher.unsubscribe(argument);
}).on("close", () => {
  pusher.disconnect();
  process.exit(0);
});
