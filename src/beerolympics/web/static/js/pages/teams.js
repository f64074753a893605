// The team list: refresh when teams join or change.
import { follow } from "../follow.js";

follow({
  channels: ["tournament"],
  onMessage: (channel, message) => ["team_joined", "team_updated", "member_joined"].includes(message.kind),
});
