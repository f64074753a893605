// The recap follows the tournament: podiums, records, highlights and photos refresh when they
// change. "Share the recap" opens the phone's share sheet (Web Share), or copies the link.
import { follow } from "../follow.js";

follow({ channels: ["tournament"] });

const button = document.querySelector("[data-share]");
const status = document.querySelector("[data-share-status]");
button?.addEventListener("click", async () => {
  const { url, title, text } = button.dataset;
  try {
    if (navigator.share) {
      await navigator.share({ url, title, text });
    } else {
      await navigator.clipboard.writeText(url);
      status.textContent = "Link copied: paste it anywhere.";
    }
  } catch (error) {
    // Closing the share sheet is not an error worth showing.
    if (error.name !== "AbortError") status.textContent = `Could not share: copy ${url}`;
  }
});
