// Tables and matches: any match or station change refreshes the page's regions.
import { follow } from "../follow.js";

follow({ channels: ["tournament"] });
