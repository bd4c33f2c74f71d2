# The site's words in English, the language every other file translates from.
# A message is `id = text`; `{ $name }` is filled in by the code. `microblog translate check`
# lists what another language is missing.

language-name = English

## The layout (base.html)

site-name = Microblog
title-welcome = Welcome to Microblog
title-page = { $title } - Microblog
nav-toggle = Toggle navigation
nav-home = Home
nav-explore = Explore
nav-profile = Profile
nav-sessions = Sessions
nav-logout = Logout
nav-login = Login
language-menu = Language

## Page titles

title-home = Home
title-explore = Explore
title-user = { $username }
title-edit-profile = Edit Profile
title-sign-in = Sign In
title-register = Register
title-reauthenticate = Confirm your password
title-change-password = Change password
title-reset-password-request = Reset Password
title-reset-password = Reset Your Password
title-sessions = Your sessions
title-logout = Log out?
logout-confirm = Another site sent you here. Do you want to log out of Microblog?
logout-stay = Stay logged in
title-error = { $reason }

## Posts (index.html, user.html, _post.html, _pagination.html)

index-greeting = Hi, { $username }!
index-say-something = Say something
button-submit = Submit
index-empty = Nothing here yet. Write your first post above, or find people to follow among everyone's posts:
index-empty-link = Explore
explore-empty = No posts here yet.
user-no-posts = No posts yet.
post-said = said
post-translate = Translate
pagination-label = Post navigation
pagination-newer = Newer posts
pagination-older = Older posts

## Profiles (user.html, user_popup.html, _follow_form.html, edit_profile.html)

user-avatar-alt = Avatar of { $username }
user-heading = User: { $username }
user-last-seen = Last seen on:
# A remote account (name@host): this server never sees its visits, so no "Last seen".
user-remote-server = An account on { $server }.
# The link to a remote account's own page on its server.
user-remote-page = Its page on { $server }
# The number is shown before the word.
user-followers =
    { $count ->
        [one] follower
       *[other] followers
    }
# As in "3 following": the users this one follows.
user-following = following
user-edit-profile = Edit your profile
button-follow = Follow
button-unfollow = Unfollow
field-username = Username
field-about-me = About me
edit-profile-change-password = Change your password
edit-profile-sessions = Where you are logged in

## Logins (auth/*.html)

field-password = Password
field-remember-me = Remember Me
button-sign-in = Sign In
login-new-user = New User?
login-register-link = Click to Register!
login-forgot = Forgot Your Password?
login-reset-link = Click to Reset It
field-email = Email
field-password2 = Repeat Password
password-hint = At least 8 characters, not only digits, not a common password, and not like your username or e-mail address.
button-register = Register
field-old-password = Current password
field-new-password = New password
field-new-password2 = Repeat new password
button-change-password = Change password
change-password-note = Changing your password logs you out in every other browser.
reauthenticate-intro = You were logged in by "remember me" or from another browser. Type your password to go on.
button-confirm = Confirm
reset-password-note = Choosing it logs you out in every browser.
button-reset-password = Reset Password
button-request-reset = Request Password Reset
reset-request-note = If the address is that of an account, a link to choose a new password is mailed to it.

## Where you are logged in (auth/sessions.html)

sessions-intro = You are logged in in these browsers. Log out of any you do not recognise, and if one is not yours:
sessions-logged-in = Logged in
sessions-last-used = Last used
sessions-remember = Remember me
sessions-this-browser = this browser
sessions-yes = yes
sessions-no = no
button-log-out = Log out
button-log-out-everywhere = Log out everywhere
sessions-unknown-browser = Unknown browser
# A browser as people name it: "Chrome on Linux".
sessions-browser-on = { $browser } on { $system }

## Error pages

error-not-found = The page you asked for is not here.
error-back = Back
error-500-heading = An unexpected error has occurred
error-500-text = The administrator has been notified. Sorry for the inconvenience!
status-400 = Bad Request
status-403 = Forbidden
status-404 = Not Found
status-405 = Method Not Allowed
status-413 = Payload Too Large
status-415 = Unsupported Media Type
status-422 = Unprocessable Entity
status-429 = Too Many Requests
status-431 = Request Header Fields Too Large
status-500 = Internal Server Error
status-503 = Service Unavailable
error-csrf = The CSRF token is missing or invalid. Reload the page and try again.
error-form-malformed = The form is malformed: { $detail }.
error-form-utf8 = The form data is not valid UTF-8.
error-form-nul = The form data must not contain NUL characters.
error-unknown-host = This site does not answer to that host name, so it cannot mail a link to itself.
error-not-a-session = That is not a session number.
error-unknown-language = This site is not available in { $lang }.

## Form errors

form-required = This field is required.
form-length = Field must be between { $min } and { $max } characters long.
form-control-characters = This field cannot hold control characters.
form-too-long = Field cannot be longer than { $max } characters.
form-username-characters = Usernames may use only letters, numbers, dots, dashes and underscores.
form-invalid-email = Invalid email address.
form-passwords-differ = Field must be equal to password.
form-username-taken = Please use a different username.
form-email-taken = Please use a different email address.
form-invalid-password = Invalid password.
form-try-later = Too many attempts. Please wait a minute and try again.
form-too-many-logins = Too many login attempts. Please wait a minute and try again.
password-too-short = This password is too short. It must contain at least { $min } characters.
password-too-long = This password is too long. It must contain at most { $max } characters.
password-numeric = This password is entirely numeric.
password-common = This password is too common.
password-similar = The password is too similar to the username or e-mail address.

## Flash messages

flash-login-required = Please log in to access this page.
flash-logged-out = You have been logged out.
flash-reauthenticate = Please reauthenticate to access this page.
flash-invalid-login = Invalid username or password
flash-registered = Congratulations, you are now a registered user!
flash-password-changed = Your password has been changed. Your other sessions were logged out.
flash-check-email = Check your email for the instructions to reset your password
flash-reset-link-dead = That password reset link is no longer valid: it was used, a newer one was sent, or it expired.
flash-reset-link-ask = Ask for a new one.
flash-password-reset = Your password has been reset.
flash-session-logged-out = That session has been logged out.
flash-logged-out-everywhere = You have been logged out everywhere.
flash-post-live = Your post is now live!
flash-changes-saved = Your changes have been saved.
flash-user-not-found = User { $username } not found.
flash-cannot-follow-self = You cannot follow yourself!
flash-cannot-unfollow-self = You cannot unfollow yourself!
flash-following = You are following { $username }!
flash-not-following = You are not following { $username }.

## The password reset mail (email/reset_password.*)

email-reset-subject = [Microblog] Reset Your Password
email-dear = Dear { $username },
email-reset-asked = Someone (we hope you) asked to reset the password of your Microblog account.
email-reset-open = To choose a new password, open this link:
email-reset-click = To choose a new password, click here:
email-reset-expiry =
    { $minutes ->
        [one] The link works once, for 1 minute.
       *[other] The link works once, for { $minutes } minutes.
    }
email-reset-ignore = If you did not ask for it, ignore this mail: your password stays as it is.
email-sincerely = Sincerely,
email-team = The Microblog Team
email-confirm-subject = [Microblog] Confirm your new email address
email-confirm-asked = Someone (we hope you) asked to make { $email } the email address of your Microblog account.
email-confirm-open = To confirm it, open this link:
email-confirm-click = To confirm it, click here:
email-confirm-expiry = The link works for { $hours } hours. Until it is opened, your account keeps its old address.
email-confirm-ignore = If you did not ask for it, ignore this mail: nothing changes.
email-changed-subject = [Microblog] Your email address was changed
email-changed-text = The email address of your Microblog account is now { $email }. Mail about your account, password reset links included, goes there from now on.
email-changed-not-you = If you did not make this change, someone else may have your password: tell the site's administrators at once.

## Translations of posts (POST /translate and the Translate link)

translate-not-configured = Error: the translation service is not configured.
translate-failed = Error: the translation service failed.
translate-unreachable = Error: Could not contact server.
translate-translating = Translating…
error-translate-json = Send the text as JSON (Content-Type: application/json).
error-translate-body = The request must be JSON with text, source_language and dest_language: { $detail }
error-translate-empty = There is no text to translate.
error-translate-too-long = The text is too long to translate (at most { $max } characters).
error-translate-user-daily = You have used today's translation allowance ({ $max } characters). Try again after midnight UTC.
error-translate-site-daily = The site has used up today's translations. Try again after midnight UTC.
error-translate-language = { $field } is not a language code.
error-translate-too-many = You have asked for many translations in a short time. Please wait a little and try again.
error-translate-csrf = The request lacks this page's CSRF token (the X-CSRFToken header).

## Search (search.html, the navbar's box)

title-search = Search
search-placeholder = Search
search-heading = Search Results
search-button = Search
search-none = No posts hold all of these words.
# A search for @name@host that found no account: $handle is what was typed.
search-handle-not-found = No account { $handle } was found: its server did not answer, or has no such account.
search-too-long = The search is too long (at most { $max } characters).
search-too-many-words = The search has too many words (at most { $max }).

## Chapter 21: private messages
nav-messages = Messages
nav-search = Search the site
title-messages = Messages
title-send-message = Send Message
user-send-message = Send private message
send-message-heading = Send Message to { $recipient }
send-message-label = Message
button-cancel = Cancel
button-block = Block
button-unblock = Unblock
messages-none = No messages yet.
flash-message-sent = Your message has been sent.
flash-cannot-message-self = You cannot send messages to yourself!
flash-message-blocked = You cannot send messages to { $username }.
flash-cannot-block-self = You cannot block yourself!
flash-blocked = You have blocked { $username }: their posts and messages no longer reach you.
# A remote account sends no messages here.
flash-blocked-remote = You have blocked { $username }: their posts no longer reach you.
flash-unblocked = You have unblocked { $username }.
# Over the sending budget: $max messages a minute.
message-too-fast = You are sending messages too fast (at most { $max } a minute). Try again in { $seconds } seconds.
error-since = "since" must be a Unix time in seconds, 0 or more.
error-busy-hashing = Too many accounts are being created or changed right now. Please try again in a few seconds.
error-busy-checking = Too many passwords are being checked right now. Please try again in a few seconds.
error-too-many-streams = Too many live streams are open for this account (at most { $max }); close some tabs.

## Chapter 22: exporting one's posts
title-export-posts = Export your posts
export-button = Export your posts
export-confirm = Your posts will be gathered into a file, posts.json, mailed to you and kept here for a day.
export-in-progress = An export task is currently in progress
export-over-quota = You have exported your posts { $max } times today, the most a day allows. Try again in { $hours ->
    [one] an hour
   *[other] { $hours } hours
}.
export-started = Your posts are being exported. The file will be mailed to you.
export-failed = Export failed, please try again
export-download = Download your posts (posts.json)
export-kept-until = kept until
export-done = Done: your posts are ready.
email-export-subject = [Microblog] Your blog posts
email-export-too-large = The archive of your { $count } posts that you requested is too large to attach to a mail: download it from your profile page within a day.
email-export-attached = { $count ->
    [one] Please find attached the archive of your post that you requested.
   *[other] Please find attached the archive of your { $count } posts that you requested.
}

## Changing the email address (/auth/change_email, /auth/confirm_email)

title-change-email = Change your email address
change-email-note = We will send a link to the new address. Your address changes when you open it; until then it stays as it is.
button-change-email = Send the link
form-email-unchanged = That is already your address.
flash-email-link-sent = We sent a link to { $email }. Open it to confirm the change.
title-confirm-email = Confirm your new email address
confirm-email-text = The email address of { $username } will be { $email }.
button-confirm-email = Confirm
flash-email-changed = Your email address is now { $email }.
flash-email-link-dead = That link is no longer valid: it was used, a newer one was sent, or it expired.
flash-email-taken-meanwhile = That address belongs to another account now: your address stays as it was.
edit-profile-change-email = Change your email address
field-new-email = New email address
api-spaces-around = no spaces before or after it
api-password-for-email = Your current password is needed to change the address.

## The character counter under the post and message boxes (static/js/microblog.js)
counter-too-many = { $count } too many

## The API's page (/api/docs: templates/api/docs.html; api-js-*: the words of static/js/api-docs.js)
api-title = microblog API
api-lead = Every endpoint of the microblog API, read from its OpenAPI document. Get a token with your username and password, then try any request from this page. The document:
api-token-heading = Your token
api-token-get = Get a token
api-token-label = Bearer token
api-token-placeholder = none yet: get one above, or paste one
api-token-revoke = Revoke
api-token-note = A token works for an hour. This page keeps it for this tab only (sessionStorage) and sends it to the operations that take one as
api-needs-script = This page needs JavaScript to list and try the operations. The API's description is at
api-js-server-unreachable = The server could not be reached:
api-js-asking = Asking for a token…
api-js-new-token = A new token, for an hour: the operations below that take one send it.
api-js-no-token = There is no token to revoke.
api-js-revoked = Revoked: that token no longer works.
api-js-no-auth = No authentication.
api-js-needs = Needs
api-js-or = or
api-js-auth-bearer = a token (Bearer)
api-js-auth-basic = your username and password (HTTP Basic)
api-js-name = Name
api-js-in = In
api-js-required = Required
api-js-type = Type
api-js-description = Description
api-js-yes = yes
api-js-no = no
api-js-status = Status
api-js-body = Body
api-js-required-body = (required)
api-js-optional = (optional)
api-js-header = Header
api-js-try-it = Try it
api-js-body-json = Body (JSON)
api-js-basic-note = This one takes your username and password: use "Get a token" above. Sent from here it goes without them, to see the 401.
api-js-send = Send
api-js-no-body = (no body)
api-js-request-failed = The request failed:
api-js-parameters = Parameters
api-js-request-body = Request body
api-js-responses = Responses
api-js-auth-short = auth:
api-js-no-auth-short = no auth
api-js-reading = Reading the API…
api-js-unreadable = The API's description could not be read from
api-js-seconds = seconds

## Deleting a post, a message, an account (a port addition)
title-delete-post = Delete this post?
post-delete = Delete
delete-post-question = This post will be deleted everywhere: your profile, timelines, search and the API.
delete-post-note = It cannot be brought back.
button-delete-post = Delete the post
flash-post-deleted = Your post has been deleted.
message-delete = Delete
flash-message-deleted = The message has been deleted.
title-delete-account = Delete your account
edit-profile-delete-account = Delete your account
delete-account-intro = Deleting the account { $username } deletes, at once and for good:
delete-account-profile = your profile, username, email address and password (the username becomes free for anyone);
delete-account-posts = every post you wrote, with its place in search results and its translations;
delete-account-messages = the private messages you sent and those you received;
delete-account-follows = whom you follow and who follows you, and whom you blocked;
delete-account-logins = your logins in every browser, "remember me" cookies, API tokens and password reset links;
delete-account-mail = your notifications, exports and the mails waiting to be sent to you.
delete-account-export = To keep a copy of your posts, export them first:
delete-account-final = This cannot be undone. Enter your password to delete the account.
button-delete-account = Delete my account
flash-account-deleted = Your account has been deleted.
