# The site's words in Spanish (español). Each id is the one of locales/en/main.ftl.

language-name = Español

## The layout (base.html)

site-name = Microblog
title-welcome = Bienvenido a Microblog
title-page = { $title } - Microblog
nav-toggle = Mostrar u ocultar la navegación
nav-home = Inicio
nav-explore = Explorar
nav-profile = Perfil
nav-sessions = Sesiones
nav-logout = Salir
nav-login = Ingresar
language-menu = Idioma

## Page titles

title-home = Inicio
title-explore = Explorar
title-user = { $username }
title-edit-profile = Editar perfil
title-sign-in = Ingresar
title-register = Registrarse
title-reauthenticate = Confirma tu contraseña
title-change-password = Cambiar la contraseña
title-reset-password-request = Restablecer la contraseña
title-reset-password = Restablece tu contraseña
title-sessions = Tus sesiones
title-logout = ¿Salir?
logout-confirm = Otro sitio te trajo aquí. ¿Quieres salir de Microblog?
logout-stay = Seguir conectado
title-error = { $reason }

## Posts (index.html, user.html, _post.html, _pagination.html)

index-greeting = ¡Hola, { $username }!
index-say-something = Di algo
button-submit = Enviar
index-empty = Aquí no hay nada todavía. Escribe tu primer artículo arriba, o busca a quién seguir entre los artículos de todos:
index-empty-link = Explorar
explore-empty = Todavía no hay artículos.
user-no-posts = Todavía no hay artículos.
post-said = dijo
post-translate = Traducir
pagination-label = Navegación entre artículos
pagination-newer = Artículos siguientes
pagination-older = Artículos anteriores

## Profiles (user.html, user_popup.html, _follow_form.html, edit_profile.html)

user-avatar-alt = Avatar de { $username }
user-heading = Usuario: { $username }
user-last-seen = Última visita:
user-remote-server = Una cuenta de { $server }.
user-remote-page = Su página en { $server }
user-followers =
    { $count ->
        [one] seguidor
       *[other] seguidores
    }
user-following = siguiendo
user-edit-profile = Editar tu perfil
button-follow = Seguir
button-unfollow = Dejar de seguir
field-username = Nombre de usuario
field-about-me = Acerca de mí
edit-profile-change-password = Cambiar tu contraseña
edit-profile-sessions = Dónde has ingresado

## Logins (auth/*.html)

field-password = Contraseña
field-remember-me = Recordarme
button-sign-in = Ingresar
login-new-user = ¿Usuario nuevo?
login-register-link = ¡Regístrate aquí!
login-forgot = ¿Te olvidaste tu contraseña?
login-reset-link = Restablécela aquí
field-email = Correo electrónico
field-password2 = Repetir la contraseña
password-hint = Al menos 8 caracteres, no solo dígitos, no una contraseña común y que no se parezca a tu nombre de usuario ni a tu correo.
button-register = Registrarse
field-old-password = Contraseña actual
field-new-password = Contraseña nueva
field-new-password2 = Repetir la contraseña nueva
button-change-password = Cambiar la contraseña
change-password-note = Al cambiar tu contraseña se cierran tus sesiones en todos los demás navegadores.
reauthenticate-intro = Ingresaste con "recordarme" o desde otro navegador. Escribe tu contraseña para continuar.
button-confirm = Confirmar
reset-password-note = Al elegirla se cierran tus sesiones en todos los navegadores.
button-reset-password = Restablecer la contraseña
button-request-reset = Pedir un enlace para restablecerla
reset-request-note = Si la dirección es la de una cuenta, se le envía un enlace para elegir una contraseña nueva.

## Where you are logged in (auth/sessions.html)

sessions-intro = Has ingresado en estos navegadores. Cierra la sesión de los que no reconozcas y, si alguno no es tuyo:
sessions-logged-in = Ingresó
sessions-last-used = Último uso
sessions-remember = Recordarme
sessions-this-browser = este navegador
sessions-yes = sí
sessions-no = no
button-log-out = Cerrar la sesión
button-log-out-everywhere = Cerrar todas las sesiones
sessions-unknown-browser = Navegador desconocido
sessions-browser-on = { $browser } en { $system }

## Error pages

error-not-found = La página que buscas no está aquí.
error-back = Volver
error-500-heading = Ha ocurrido un error inesperado
error-500-text = Se ha avisado al administrador. ¡Disculpa las molestias!
status-400 = Solicitud incorrecta
status-403 = Prohibido
status-404 = No encontrado
status-405 = Método no permitido
status-413 = Solicitud demasiado grande
status-415 = Tipo de contenido no admitido
status-422 = Entidad no procesable
status-429 = Demasiadas solicitudes
status-431 = Encabezados de la solicitud demasiado grandes
status-500 = Error interno del servidor
status-503 = Servicio no disponible
error-csrf = Falta el token CSRF o no es válido. Vuelve a cargar la página e inténtalo otra vez.
error-form-malformed = El formulario está mal formado: { $detail }.
error-form-utf8 = Los datos del formulario no son UTF-8 válido.
error-form-nul = Los datos del formulario no deben contener caracteres NUL.
error-unknown-host = Este sitio no responde a ese nombre de host, así que no puede enviar un enlace hacia sí mismo.
error-not-a-session = Ese no es un número de sesión.
error-unknown-language = Este sitio no está disponible en { $lang }.

## Form errors

form-required = Este campo es obligatorio.
form-length = El campo debe tener entre { $min } y { $max } caracteres.
form-control-characters = Este campo no puede contener caracteres de control.
form-too-long = El campo no puede tener más de { $max } caracteres.
form-username-characters = Los nombres de usuario solo pueden tener letras, números, puntos, guiones y guiones bajos.
form-invalid-email = Dirección de correo electrónico no válida.
form-passwords-differ = El campo debe ser igual a la contraseña.
form-username-taken = Por favor usa un nombre de usuario diferente.
form-email-taken = Por favor usa una dirección de correo electrónico diferente.
form-invalid-password = Contraseña incorrecta.
form-try-later = Demasiados intentos. Espera un minuto y vuelve a intentarlo.
form-too-many-logins = Demasiados intentos de ingreso. Espera un minuto y vuelve a intentarlo.
password-too-short = Esta contraseña es demasiado corta. Debe tener al menos { $min } caracteres.
password-too-long = Esta contraseña es demasiado larga. Debe tener como mucho { $max } caracteres.
password-numeric = Esta contraseña es completamente numérica.
password-common = Esta contraseña es demasiado común.
password-similar = La contraseña se parece demasiado al nombre de usuario o a la dirección de correo.

## Flash messages

flash-login-required = Por favor ingresa para acceder a esta página.
flash-logged-out = Has cerrado la sesión.
flash-reauthenticate = Por favor confirma tu contraseña para acceder a esta página.
flash-invalid-login = Nombre de usuario o contraseña incorrectos
flash-registered = ¡Felicitaciones, ya eres un usuario registrado!
flash-password-changed = Tu contraseña ha cambiado. Se cerraron tus otras sesiones.
flash-check-email = Busca en tu correo las instrucciones para restablecer tu contraseña
flash-reset-link-dead = Ese enlace para restablecer la contraseña ya no es válido: ya se usó, se envió uno más nuevo o caducó.
flash-reset-link-ask = Pide uno nuevo.
flash-password-reset = Tu contraseña ha sido restablecida.
flash-session-logged-out = Se cerró esa sesión.
flash-logged-out-everywhere = Se cerraron todas tus sesiones.
flash-post-live = ¡Tu artículo ha sido publicado!
flash-changes-saved = Tus cambios han sido guardados.
flash-user-not-found = El usuario { $username } no existe.
flash-cannot-follow-self = ¡No te puedes seguir a ti mismo!
flash-cannot-unfollow-self = ¡No te puedes dejar de seguir a ti mismo!
flash-following = ¡Ahora estás siguiendo a { $username }!
flash-not-following = Ya no sigues a { $username }.

## The password reset mail (email/reset_password.*)

email-reset-subject = [Microblog] Restablece tu contraseña
email-dear = Hola { $username }:
email-reset-asked = Alguien (esperamos que tú) pidió restablecer la contraseña de tu cuenta de Microblog.
email-reset-open = Para elegir una contraseña nueva, abre este enlace:
email-reset-click = Para elegir una contraseña nueva, haz clic aquí:
email-reset-expiry =
    { $minutes ->
        [one] El enlace funciona una vez, durante 1 minuto.
       *[other] El enlace funciona una vez, durante { $minutes } minutos.
    }
email-reset-ignore = Si no lo pediste, ignora este correo: tu contraseña sigue igual.
email-sincerely = Atentamente,
email-team = El equipo de Microblog
email-confirm-subject = [Microblog] Confirma tu nueva dirección de correo
email-confirm-asked = Alguien (esperamos que tú) pidió que { $email } sea la dirección de correo de tu cuenta de Microblog.
email-confirm-open = Para confirmarlo, abre este enlace:
email-confirm-click = Para confirmarlo, haz clic aquí:
email-confirm-expiry = El enlace es válido durante { $hours } horas. Hasta que lo abras, tu cuenta conserva su dirección anterior.
email-confirm-ignore = Si no lo pediste, ignora este correo: no cambiará nada.
email-changed-subject = [Microblog] Tu dirección de correo cambió
email-changed-text = La dirección de correo de tu cuenta de Microblog ahora es { $email }. Desde ahora, el correo sobre tu cuenta, incluidos los enlaces para restablecer la contraseña, llegará a esa dirección.
email-changed-not-you = Si no hiciste este cambio, alguien más podría tener tu contraseña: avisa de inmediato a los administradores del sitio.

## Translations of posts (POST /translate and the Translate link)

translate-not-configured = Error: el servicio de traducciones no está configurado.
translate-failed = Error: el servicio de traducciones falló.
translate-unreachable = Error: no se pudo contactar al servidor.
translate-translating = Traduciendo…
error-translate-json = Envía el texto como JSON (Content-Type: application/json).
error-translate-body = La solicitud debe ser JSON con text, source_language y dest_language: { $detail }
error-translate-empty = No hay texto para traducir.
error-translate-too-long = El texto es demasiado largo para traducirlo (como mucho { $max } caracteres).
error-translate-user-daily = Ya usaste tu cupo de traducciones de hoy ({ $max } caracteres). Vuelve a intentarlo después de la medianoche UTC.
error-translate-site-daily = El sitio ya usó todas sus traducciones de hoy. Vuelve a intentarlo después de la medianoche UTC.
error-translate-language = { $field } no es un código de idioma.
error-translate-too-many = Pediste muchas traducciones en poco tiempo. Espera un momento y vuelve a intentarlo.
error-translate-csrf = A la solicitud le falta el token CSRF de esta página (el encabezado X-CSRFToken).

## Search (search.html, the navbar's box)

title-search = Buscar
search-placeholder = Buscar
search-heading = Resultados de la búsqueda
search-button = Buscar
search-none = Ningún artículo tiene todas estas palabras.
search-handle-not-found = No se encontró ninguna cuenta { $handle }: su servidor no respondió, o no tiene esa cuenta.
search-too-long = La búsqueda es demasiado larga (como mucho { $max } caracteres).
search-too-many-words = La búsqueda tiene demasiadas palabras (como mucho { $max }).

## Chapter 21: private messages
nav-messages = Mensajes
nav-search = Buscar en el sitio
title-messages = Mensajes
title-send-message = Enviar mensaje
user-send-message = Enviar mensaje privado
send-message-heading = Enviar mensaje a { $recipient }
send-message-label = Mensaje
button-cancel = Cancelar
button-block = Bloquear
button-unblock = Desbloquear
messages-none = Todavía no hay mensajes.
flash-message-sent = Tu mensaje ha sido enviado.
flash-cannot-message-self = ¡No puedes enviarte mensajes a ti mismo!
flash-message-blocked = No puedes enviar mensajes a { $username }.
flash-cannot-block-self = ¡No puedes bloquearte a ti mismo!
flash-blocked = Has bloqueado a { $username }: sus artículos y mensajes ya no te llegan.
flash-blocked-remote = Has bloqueado a { $username }: sus artículos ya no te llegan.
flash-unblocked = Has desbloqueado a { $username }.
message-too-fast = Estás enviando mensajes demasiado rápido (como mucho { $max } por minuto). Vuelve a intentarlo en { $seconds } segundos.
error-since = "since" debe ser un tiempo Unix en segundos, 0 o más.
error-busy-hashing = Se están creando o cambiando demasiadas cuentas en este momento. Vuelve a intentarlo en unos segundos.
error-busy-checking = Se están comprobando demasiadas contraseñas en este momento. Vuelve a intentarlo en unos segundos.
error-too-many-streams = Hay demasiadas conexiones en vivo abiertas para esta cuenta (como mucho { $max }); cierra algunas pestañas.

## Chapter 22: exporting one's posts
title-export-posts = Exportar tus artículos
export-button = Exportar tus artículos
export-confirm = Tus artículos se reunirán en un archivo, posts.json, que se te enviará por correo y se guardará aquí durante un día.
export-in-progress = Ya hay una exportación en curso
export-over-quota = Ya exportaste tus artículos { $max } veces hoy, el máximo por día. Vuelve a intentarlo en { $hours ->
    [one] una hora
   *[other] { $hours } horas
}.
export-started = Tus artículos se están exportando. Recibirás el archivo por correo.
export-failed = La exportación falló, inténtalo de nuevo
export-download = Descargar tus artículos (posts.json)
export-kept-until = disponible hasta el
export-done = Listo: tus artículos están preparados.
email-export-subject = [Microblog] Tus artículos
email-export-too-large = El archivo con tus { $count } artículos que pediste es demasiado grande para adjuntarlo a un correo: descárgalo desde tu página de perfil antes de un día.
email-export-attached = { $count ->
    [one] Adjunto encontrarás el archivo con tu artículo que pediste.
   *[other] Adjunto encontrarás el archivo con tus { $count } artículos que pediste.
}

## Changing the email address (/auth/change_email, /auth/confirm_email)

title-change-email = Cambiar tu dirección de correo
change-email-note = Enviaremos un enlace a la nueva dirección. Tu dirección cambiará cuando lo abras; hasta entonces seguirá igual.
button-change-email = Enviar el enlace
form-email-unchanged = Esa ya es tu dirección.
flash-email-link-sent = Enviamos un enlace a { $email }. Ábrelo para confirmar el cambio.
title-confirm-email = Confirma tu nueva dirección de correo
confirm-email-text = La dirección de correo de { $username } será { $email }.
button-confirm-email = Confirmar
flash-email-changed = Tu dirección de correo ahora es { $email }.
flash-email-link-dead = Ese enlace ya no es válido: se usó, se envió uno más nuevo o caducó.
flash-email-taken-meanwhile = Esa dirección ahora es de otra cuenta: tu dirección sigue como estaba.
edit-profile-change-email = Cambiar tu dirección de correo
field-new-email = Nueva dirección de correo
api-spaces-around = sin espacios delante ni detrás
api-password-for-email = Se necesita tu contraseña actual para cambiar la dirección.

## The character counter under the post and message boxes (static/js/microblog.js)
counter-too-many = { $count } de más

## The API's page (/api/docs: templates/api/docs.html; api-js-*: the words of static/js/api-docs.js)
api-title = API de microblog
api-lead = Todas las operaciones de la API de microblog, leídas de su documento OpenAPI. Pide un token con tu nombre de usuario y contraseña y prueba cualquier petición desde esta página. El documento:
api-token-heading = Tu token
api-token-get = Pedir un token
api-token-label = Token Bearer
api-token-placeholder = ninguno aún: pide uno arriba o pega uno
api-token-revoke = Revocar
api-token-note = Un token vale una hora. Esta página lo guarda solo para esta pestaña (sessionStorage) y lo envía a las operaciones que lo piden como
api-needs-script = Esta página necesita JavaScript para mostrar y probar las operaciones. La descripción de la API está en
api-js-server-unreachable = No se pudo contactar con el servidor:
api-js-asking = Pidiendo un token…
api-js-new-token = Un token nuevo, para una hora: las operaciones de abajo que lo piden lo envían.
api-js-no-token = No hay ningún token que revocar.
api-js-revoked = Revocado: ese token ya no sirve.
api-js-no-auth = Sin autenticación.
api-js-needs = Pide
api-js-or = o
api-js-auth-bearer = un token (Bearer)
api-js-auth-basic = tu nombre de usuario y contraseña (HTTP Basic)
api-js-name = Nombre
api-js-in = En
api-js-required = Obligatorio
api-js-type = Tipo
api-js-description = Descripción
api-js-yes = sí
api-js-no = no
api-js-status = Estado
api-js-body = Cuerpo
api-js-required-body = (obligatorio)
api-js-optional = (opcional)
api-js-header = Cabecera
api-js-try-it = Pruébalo
api-js-body-json = Cuerpo (JSON)
api-js-basic-note = Esta pide tu nombre de usuario y contraseña: usa «Pedir un token» arriba. Enviada desde aquí va sin ellos, para ver el 401.
api-js-send = Enviar
api-js-no-body = (sin cuerpo)
api-js-request-failed = La petición falló:
api-js-parameters = Parámetros
api-js-request-body = Cuerpo de la petición
api-js-responses = Respuestas
api-js-auth-short = autenticación:
api-js-no-auth-short = sin autenticación
api-js-reading = Leyendo la API…
api-js-unreadable = No se pudo leer la descripción de la API de
api-js-seconds = segundos

## Deleting a post, a message, an account (a port addition)
title-delete-post = ¿Borrar este artículo?
post-delete = Borrar
delete-post-question = Este artículo se borrará en todas partes: tu perfil, las líneas de tiempo, la búsqueda y la API.
delete-post-note = No se podrá recuperar.
button-delete-post = Borrar el artículo
flash-post-deleted = Tu artículo ha sido borrado.
message-delete = Borrar
flash-message-deleted = El mensaje ha sido borrado.
title-delete-account = Borrar tu cuenta
edit-profile-delete-account = Borrar tu cuenta
delete-account-intro = Borrar la cuenta { $username } borra, en el acto y para siempre:
delete-account-profile = tu perfil, nombre de usuario, correo electrónico y contraseña (el nombre de usuario queda libre para cualquiera);
delete-account-posts = todos los artículos que escribiste, con su lugar en la búsqueda y sus traducciones;
delete-account-messages = los mensajes privados que enviaste y los que recibiste;
delete-account-follows = a quién sigues y quién te sigue, y a quién bloqueaste;
delete-account-logins = tus sesiones en todos los navegadores, las cookies de "recordarme", los tokens de la API y los enlaces para restablecer la contraseña;
delete-account-mail = tus notificaciones, exportaciones y los correos pendientes de enviarte.
delete-account-export = Para guardar una copia de tus artículos, expórtalos antes:
delete-account-final = No se puede deshacer. Escribe tu contraseña para borrar la cuenta.
button-delete-account = Borrar mi cuenta
flash-account-deleted = Tu cuenta ha sido borrada.
