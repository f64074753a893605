// A team's page: refresh when the team's matches, points or roster change. (Its members'
// "you're up" banner comes from follow(), on every page.)
import { follow } from "../follow.js";
import { wireNotify } from "../notify.js";

const pageTeam = decodeURIComponent(location.pathname.split("/").pop());

follow({
  channels: ["tournament"],
  onMessage: (channel, message) => {
    if (message.kind === "media_updated") return message.media.subject === `team:${pageTeam}`;
    if (message.kind === "match_updated") {
      const slots = (message.match && message.match.slots) || [];
      return slots.some((s) => s.team && s.team.id === pageTeam);
    }
    return ["leaderboard", "you_are_up", "team_updated", "member_joined", "tournament_updated"].includes(message.kind);
  },
});

wireNotify().catch((error) => console.error("notifications", error));
