/** Las cadenas de la consola en español (las mismas claves que en.ts). */
import type { Messages } from './en';

export const es: Messages = {
  app: {
    name: 'Consola del portafolio',
    skip: 'Ir al contenido',
    footer: 'Tus enlaces y datos se quedan en este servidor.',
  },
  lang: { label: 'Idioma', en: 'English', es: 'Español' },
  field: {
    email: 'Correo electrónico',
    password: 'Contraseña',
    new_password: 'Nueva contraseña',
    name: 'Nombre',
    auth_code: 'Código de autenticación',
    backup_code: 'Código de respaldo',
    required: 'Rellena este campo.',
  },
  button: {
    sign_in: 'Iniciar sesión',
    set_password: 'Guardar contraseña',
    verify: 'Verificar',
    sign_out: 'Cerrar sesión',
    send_link: 'Enviar el enlace',
    unlock: 'Desbloquear mi cuenta',
    not_me: 'No fui yo: proteger mi cuenta',
    working: 'Procesando…',
  },
  link: {
    sign_in: 'Ir a iniciar sesión',
    forgot: '¿Olvidaste tu contraseña?',
    new_reset: 'Pedir un nuevo enlace',
    account: 'Ir a mi cuenta',
  },
  strength: {
    label: 'Seguridad de la contraseña',
    hint: 'Usa al menos %{min} caracteres: unas cuantas palabras sin relación forman una frase segura.',
    too_short: 'Demasiado corta: %{count} de al menos %{min} caracteres.',
    too_long: 'Demasiado larga: como máximo %{max} caracteres.',
    level_0: 'Muy débil',
    level_1: 'Débil',
    level_2: 'Aceptable',
    level_3: 'Fuerte',
    level_4: 'Muy fuerte',
    checking: 'Comprobando…',
  },
  error: {
    INVALID_TOKEN:
      'Este enlace ha caducado o ya se usó. Los enlaces de nuestros correos funcionan una vez, durante poco tiempo.',
    LINK_MISSING:
      'Esta página necesita el enlace de tu correo, con su código. Vuelve a abrir el enlace desde el correo.',
    WEAK_PASSWORD: 'Esta contraseña es demasiado fácil de adivinar.',
    VALIDATION_FAILED: 'Revisa el campo marcado.',
    RATE_LIMITED: 'Demasiados intentos. Vuelve a intentarlo en %{seconds} segundos.',
    RATE_LIMITED_NO_TIME: 'Demasiados intentos. Vuelve a intentarlo en un momento.',
    ACCOUNT_LOCKED:
      'Los inicios de sesión de esta cuenta están en pausa durante %{seconds} segundos tras demasiados intentos fallidos. Enviamos a su titular un enlace para desbloquearla.',
    INVALID_CREDENTIALS: 'El correo o la contraseña no son correctos.',
    INVITATION_INVALID: 'Este enlace de invitación no es válido. Comprueba que abriste el enlace completo del correo.',
    INVITATION_USED: 'Esta invitación ya se usó. Si ya creaste tu cuenta, inicia sesión.',
    INVITATION_EXPIRED: 'Esta invitación ha caducado. Pide una nueva al administrador.',
    INVITATION_REVOKED: 'Esta invitación se retiró. Pide una nueva al administrador.',
    CLIENT_BLOCKED: 'Las solicitudes desde tu red están en pausa. Inténtalo más tarde.',
    NETWORK: 'No se pudo contactar con el servidor. Comprueba tu conexión y vuelve a intentarlo.',
    SERVER_ERROR: 'Algo falló en el servidor. Vuelve a intentarlo en un momento.',
    UNKNOWN: 'No funcionó. Vuelve a intentarlo.',
  },
  reset: {
    title: 'Elige una nueva contraseña',
    intro: 'Elige la nueva contraseña de tu cuenta. Se cerrarán todas las sesiones y los dispositivos de confianza.',
    done: 'Tu contraseña se cambió y se cerraron todas las sesiones. Inicia sesión con la nueva contraseña.',
  },
  forgot: {
    title: 'Restablece tu contraseña',
    intro: 'Escribe el correo de tu cuenta y te enviaremos un enlace para elegir una nueva contraseña.',
    done: 'Si alguna cuenta usa este correo, le llegará un mensaje con un enlace. El enlace funciona una vez, durante poco tiempo.',
  },
  verify: {
    title: 'Confirma tu correo',
    intro: 'Pulsa Verificar para confirmar que esta dirección de correo es de tu cuenta.',
    done: 'Tu dirección de correo está confirmada. Ya puedes iniciar sesión.',
  },
  unlock: {
    title: 'Desbloquea tu cuenta',
    intro:
      'Los inicios de sesión de tu cuenta se pausaron tras varios intentos fallidos. Si fueron tuyos, levanta la pausa ahora.',
    done: 'Tu cuenta está desbloqueada: ya puedes iniciar sesión. Si los intentos fallidos no fueron tuyos, elige una nueva contraseña.',
  },
  invite: {
    title: 'Acepta tu invitación',
    intro: 'Elige tu nombre y una contraseña para crear tu cuenta.',
    done: 'Tu cuenta está lista y tu correo confirmado. Inicia sesión con tu correo y tu nueva contraseña.',
  },
  notme: {
    title: '¿Fuiste tú?',
    intro:
      'Te escribimos por un nuevo inicio de sesión en tu cuenta. Si no fuiste tú, cierra esa sesión y elige una nueva contraseña ahora.',
    secured: 'Esa sesión se cerró. Ahora elige una nueva contraseña para que quien entró no pueda volver.',
    secured_no_session:
      'Esa sesión ya había terminado. Ahora elige una nueva contraseña para que quien entró no pueda volver.',
    done: 'Tu contraseña se cambió y se cerraron todas las sesiones. Revisa tu cuenta cuando inicies sesión.',
  },
  signin: {
    title: 'Iniciar sesión',
    intro: 'Inicia sesión en la consola con tu correo y tu contraseña.',
    done: 'Has iniciado sesión.',
  },
  account: {
    title: 'Mi cuenta',
    loading: 'Cargando tu cuenta…',
    signed_out: 'No has iniciado sesión.',
    email_verified: 'Correo confirmado',
    email_unverified: 'Correo aún sin confirmar',
    roles: 'Roles',
    bye: 'Has cerrado la sesión.',
  },
  notfound: { title: 'Página no encontrada', intro: 'No hay ninguna página de la consola en esta dirección.' },
};
