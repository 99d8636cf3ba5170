// State shared by the pages: who the caller is, and hooks into the live-update loop and the toasts.

export const app = {
  user: '',
  canWrite: false,
  busy: 0, // > 0 while a dialog or a drag is open: polling does not redraw under the operator's hands
  refreshNow: () => {},
  toast: (_message, _cls, _link) => {},
};
