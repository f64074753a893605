// The recap follows the tournament: podiums, records and photos refresh when they change.
import { follow } from "../follow.js";

follow({ channels: ["tournament"] });
