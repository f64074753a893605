// The tournament's front page follows the tournament channel and refreshes what changed.
import { follow } from "../follow.js";

follow({ channels: ["tournament"] });
