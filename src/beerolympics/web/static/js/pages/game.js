// A game's bracket or tables: refresh when one of its matches (or the game) changes.
import { follow } from "../follow.js";

const game = location.pathname.split("/").pop();

follow({
  channels: ["tournament"],
  onMessage: (channel, message) => {
    if (message.kind === "match_updated") return Boolean(message.match && message.match.game_id === game);
    if (message.kind === "game_updated") return Boolean(message.game && message.game.id === game);
    return message.kind === "team_updated";
  },
});
