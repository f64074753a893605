// A team's page: refresh when the team's matches, points or roster change. (Its members'
// "you're up" banner comes from follow(), on every page.)
import { follow } from "../follow.js";
import { wireNotify } from "../notify.js";

const pageTeam = decodeURIComponent(location.pathname.split("/").pop());

follow({
  channels: ["tournament"],
  onMessage: (channel, message) => {
    if (message.kind === "media_updated") return message.media.subject === `team:${pageTeam}`;
    // (A page is told a match in brief: its teams by id.)
    if (message.kind === "match_updated") return Boolean(message.match && (message.match.teams || []).includes(pageTeam));
    return ["leaderboard", "you_are_up", "team_updated", "member_joined", "tournament_updated"].includes(message.kind);
  },
});

wireNotify().catch((error) => console.error("notifications", error));
