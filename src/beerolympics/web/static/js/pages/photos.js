// Every photo and clip: the gallery refreshes when one is added, is ready, or is taken down.
import { follow } from "../follow.js";

follow({
  channels: ["tournament"],
  onMessage: (channel, message) => message.kind === "media_updated",
});
